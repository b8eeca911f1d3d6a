import { SSEClientTransport, SseError, StreamableHTTPClientTransport, UnauthorizedError, type Transport } from "@modelcontextprotocol/client";
import { GatewayError } from "../errors.ts";
import { toWsUrl, WS_URL_SCHEMES } from "../_utils/ws-url.ts";
import { WsClientTransport } from "../upstreams/ws-client-transport.ts";

/** How a bridge reaches its remote MCP server. */
export type RemoteKind = "streamable-http" | "sse" | "ws";

/** Parse repeatable `--header "K: V"` flags into a header record; a malformed one is a clear error. */
export function parseHeaders(values: string | readonly string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of values === undefined ? [] : typeof values === "string" ? [values] : values) {
    const index = raw.indexOf(":");
    const name = raw.slice(0, index).trim();
    if (index <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new GatewayError("BAD_REQUEST", `--header must look like "Name: value", got "${raw.split(":")[0]}…"`);
    headers[name.toLowerCase()] = raw.slice(index + 1).trim();
  }
  return headers;
}

/** Parse a remote URL strictly (http(s) for HTTP kinds, ws(s) or http(s) for WebSocket). */
export function parseRemoteUrl(kind: RemoteKind, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new GatewayError("BAD_REQUEST", `not a valid URL: "${value}"`);
  }
  const allowed = kind === "ws" ? WS_URL_SCHEMES : ["http:", "https:"];
  if (!allowed.includes(url.protocol)) throw new GatewayError("BAD_REQUEST", `a ${kind} remote needs ${allowed.join(" or ")} URL, got "${url.protocol}"`);
  return kind === "ws" ? new URL(toWsUrl(url.href)) : url;
}

/** A fresh client transport to the remote (`headers` go on every request / the handshake). */
export function createRemoteTransport(kind: RemoteKind, url: URL, headers: Readonly<Record<string, string>>): Transport {
  switch (kind) {
    case "ws":
      return new WsClientTransport(url, { headers });
    case "sse":
      return new SSEClientTransport(url, {
        requestInit: { headers },
        eventSourceInit: { fetch: (target, init) => fetch(target, { ...init, headers: { ...init?.headers, ...headers } }) },
      });
    default:
      return new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  }
}

/** A URL safe to print: no credentials, no query (it may carry a token). */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Every value of a repeatable flag (`--name v` or `--name=v`): citty keeps only the last one. */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

/**
 * Whether a transport's `onerror` means its connection is gone: the SDK's HTTP transports report a lost stream only
 * there (SSE: the event stream broke; streamable HTTP: the standalone stream could not be re-opened).
 */
export function isConnectionLost(error: Error): boolean {
  return error instanceof SseError || /^Maximum reconnection attempts/.test(error.message);
}

/** A readable reason for a lost connection (an SSE stream that simply ended carries no message). */
export function lossReason(error: Error): string {
  return error instanceof SseError && error.code === undefined && /undefined$/.test(error.message) ? "event stream ended" : error.message;
}

/** The HTTP status of a failed send, when the remote answered at all (`undefined`: it was not reached). */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  if (typeof status === "number") return status;
  if (error instanceof UnauthorizedError) return 401;
  const match = /\(HTTP (\d{3})\)/.exec(String((error as Error | undefined)?.message ?? ""));
  return match ? Number(match[1]) : undefined;
}

/** A one-line reason, with the network cause `fetch failed` hides (e.g. `connect ECONNREFUSED 127.0.0.1:80`). */
export function errorReason(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } } | undefined)?.cause?.message;
  const text = String((error as Error | undefined)?.message ?? error);
  return (typeof cause === "string" && !text.includes(cause) ? `${text} (${cause})` : text).split("\n")[0]!.slice(0, 200);
}
