import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import {
  PROTOCOL_VERSION_META_KEY,
  type JSONRPCMessage,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import { SseParser } from "../_utils/sse-parser.ts";
import { sleep } from "../_utils/timers.ts";

export interface HttpClientTransportOptions {
  headers?: Readonly<Record<string, string>>;
  /** Extra headers for the request being sent (read in its async context), e.g. forwarded identity. */
  requestHeaders?: () => Readonly<Record<string, string>> | undefined;
  /** Delay before re-opening a dropped GET notification stream, in ms. */
  reconnectDelayMs?: number;
}

/**
 * Client side of the 2025-era streamable HTTP transport on `node:http` keep-alive sockets: one JSON parse per
 * message, no web streams and no schema validation on the hot path. Used for upstreams that negotiated the
 * session protocol; 2026-07-28 upstreams keep the SDK's transport.
 */
export class HttpClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  sessionId?: string;
  /** Each request has its own HTTP exchange: a 2026-07-28 cancel closes it (the SDK then aborts `requestSignal`). */
  readonly hasPerRequestStream = true;

  readonly #url: URL;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #requestHeaders?: () => Readonly<Record<string, string>> | undefined;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #reconnectDelayMs: number;
  readonly #open = new Set<http.ClientRequest>();
  #protocolVersion?: string;
  #stream?: http.ClientRequest;
  #closed = false;

  constructor(url: URL, options: HttpClientTransportOptions = {}) {
    this.#url = url;
    this.#headers = options.headers ?? {};
    this.#requestHeaders = options.requestHeaders;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 1000;
    const secure = url.protocol === "https:";
    this.#agent = keepShortHints(new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 256 }));
    this.#request = secure ? https.request : http.request;
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#closed) throw new Error("transport closed");
    const body = JSON.stringify(message);
    const response = await this.#exchange(
      "POST",
      body,
      { "content-type": "application/json", accept: "application/json, text/event-stream", ...traceHeaders(message), ...modernHeaders(message) },
      options?.requestSignal,
    );
    const sessionId = response.headers["mcp-session-id"];
    if (typeof sessionId === "string") this.sessionId = sessionId;
    const status = response.statusCode ?? 0;
    if (status === 202) {
      response.resume();
      if ("method" in message && message.method === "notifications/initialized") this.#openStream();
      return;
    }
    if (status === 404 && this.sessionId) {
      response.resume();
      // The upstream forgot our session: close so the supervisor reconnects with a fresh initialize.
      void this.close();
      throw new Error("upstream session expired (404)");
    }
    if (status < 200 || status >= 300) {
      const text = await readText(response, 64 * 1024);
      // A 2026-07-28 server answers a rejected request with its JSON-RPC error in the body: deliver it as such.
      const error = parseErrorFor(text, message);
      if (error) {
        this.onmessage?.(error);
        return;
      }
      throw new Error(`upstream answered HTTP ${status}: ${text.slice(0, 200)}`);
    }
    const type = String(response.headers["content-type"] ?? "");
    if (type.startsWith("text/event-stream")) {
      this.#consume(response);
      return;
    }
    const text = await readText(response, Number.POSITIVE_INFINITY);
    if (!text) return;
    const parsed = JSON.parse(text) as JSONRPCMessage | JSONRPCMessage[];
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) this.onmessage?.(item);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const request of this.#open) request.destroy();
    this.#open.clear();
    if (this.sessionId) {
      // Best effort: tell the upstream the session is over, without waiting long.
      await Promise.race([this.#exchange("DELETE", undefined, {}).then((r) => r.resume(), () => {}), sleep(500)]);
    }
    this.#agent.destroy();
    this.onclose?.();
  }

  /** One HTTP exchange; resolves with the response head (the body is the caller's to consume). */
  #exchange(method: string, body: string | undefined, extra: Record<string, string>, signal?: AbortSignal, attempt = 0): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...this.#headers, ...this.#requestHeaders?.(), ...extra };
      if (this.sessionId) headers["mcp-session-id"] = this.sessionId;
      if (this.#protocolVersion) headers["mcp-protocol-version"] = this.#protocolVersion;
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const request = this.#request(this.#url, { method, headers, agent: this.#agent });
      this.#open.add(request);
      if (signal) {
        // Ends a long-lived response stream (e.g. `subscriptions/listen`) when its caller lets go.
        const abort = () => request.destroy();
        if (signal.aborted) abort();
        signal.addEventListener("abort", abort, { once: true });
        request.once("close", () => signal.removeEventListener("abort", abort));
      }
      request.once("close", () => this.#open.delete(request));
      request.once("response", resolve);
      request.once("error", (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed while idle fails before the request reached it: send it again
        // (the next pooled socket may be just as stale; a fresh one ends the chain).
        if (request.reusedSocket && error.code === "ECONNRESET" && attempt < 8 && !signal?.aborted && !this.#closed) {
          resolve(this.#exchange(method, body, extra, signal, attempt + 1));
        } else reject(error);
      });
      request.end(body);
    });
  }

  /** Read an SSE body and dispatch each message; runs in the async context of the request that opened it. */
  #consume(response: IncomingMessage): void {
    const parser = new SseParser((event) => {
      if (event.event && event.event !== "message") return;
      if (!event.data) return;
      let message: JSONRPCMessage;
      try {
        message = JSON.parse(event.data) as JSONRPCMessage;
      } catch {
        this.onerror?.(new Error("upstream sent an SSE event that is not JSON"));
        return;
      }
      this.onmessage?.(message);
    });
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => parser.push(chunk));
    response.on("error", (error) => {
      if (!this.#closed) this.onerror?.(error);
    });
  }

  /** The standalone GET stream carries notifications not tied to a request; re-opened while the transport lives. */
  #openStream(): void {
    if (this.#closed || this.#stream) return;
    const headers: Record<string, string> = { ...this.#headers, accept: "text/event-stream" };
    if (this.sessionId) headers["mcp-session-id"] = this.sessionId;
    if (this.#protocolVersion) headers["mcp-protocol-version"] = this.#protocolVersion;
    const request = this.#request(this.#url, { method: "GET", headers, agent: this.#agent });
    this.#stream = request;
    this.#open.add(request);
    const reopen = () => {
      this.#open.delete(request);
      if (this.#stream !== request) return;
      this.#stream = undefined;
      if (!this.#closed) setTimeout(() => this.#openStream(), this.#reconnectDelayMs).unref();
    };
    request.once("response", (response) => {
      if (response.statusCode !== 200) {
        // 405: the upstream offers no standalone stream; that is allowed.
        response.resume();
        this.#open.delete(request);
        return;
      }
      this.#consume(response);
      response.once("end", reopen);
    });
    request.once("error", reopen);
    request.end();
  }
}

const TRACE_KEYS = ["traceparent", "tracestate"] as const;
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** W3C trace context carried in a request's `params._meta` also goes into the HTTP headers (for HTTP-level tracing). */
function traceHeaders(message: JSONRPCMessage): Readonly<Record<string, string>> {
  const meta = "params" in message ? (message.params as { _meta?: Record<string, unknown> } | undefined)?._meta : undefined;
  if (!meta) return NO_HEADERS;
  const headers: Record<string, string> = {};
  for (const key of TRACE_KEYS) {
    const value = meta[key];
    // Printable ASCII only: a client-supplied value must never break (or split) the header block.
    if (typeof value === "string" && value.length <= 1024 && /^[\x20-\x7e]+$/.test(value)) headers[key] = value;
  }
  return headers;
}

/**
 * Node's agent drops a socket after each response when the server announces `Keep-Alive: timeout=1` (its 1 s safety
 * margin leaves nothing), so every request would open a connection: keep such a socket idle for at most 500 ms
 * instead (a request that still meets a socket the server closed is sent again, see `#exchange`).
 */
function keepShortHints<A extends http.Agent>(agent: A): A {
  const keep = agent.keepSocketAlive.bind(agent) as unknown as (socket: unknown) => boolean;
  agent.keepSocketAlive = ((socket: import("node:net").Socket & { _httpMessage?: { res?: IncomingMessage } }) => {
    if (keep(socket)) return true;
    if (!/^timeout=1\b/.test(String(socket._httpMessage?.res?.headers["keep-alive"] ?? ""))) return false;
    socket.setTimeout(500);
    return true;
  }) as never;
  return agent;
}

function readText(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      if (text.length < limit) text += chunk;
    });
    response.once("end", () => resolve(text));
    response.once("error", reject);
  });
}

/** Which body field the 2026-07-28 `Mcp-Name` header mirrors, per method. */
const NAME_SOURCE: Record<string, string> = { "tools/call": "name", "prompts/get": "name", "resources/read": "uri" };

/**
 * 2026-07-28 routing headers, derived from the request itself: `MCP-Protocol-Version` and `Mcp-Method` for an
 * enveloped request, plus `Mcp-Name` where the spec mirrors a body field. Legacy messages carry no envelope.
 */
function modernHeaders(message: JSONRPCMessage): Record<string, string> {
  if (!("method" in message) || !("id" in message)) return {};
  const params = message.params as Record<string, unknown> | undefined;
  const version = (params?._meta as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_META_KEY];
  if (typeof version !== "string") return {};
  const headers: Record<string, string> = { "mcp-protocol-version": version, "mcp-method": message.method };
  const field = NAME_SOURCE[message.method];
  const value = field ? params?.[field] : undefined;
  if (typeof value === "string") headers["mcp-name"] = encodeHeaderValue(value);
  return headers;
}

/** Plain printable ASCII passes; anything else is sent as `=?base64?<utf-8 base64>?=` (the spec's sentinel form). */
function encodeHeaderValue(value: string): string {
  const plain = value.length > 0 && value === value.trim() && !(value.startsWith("=?base64?") && value.endsWith("?=")) && /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `=?base64?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/** The JSON-RPC error response in an HTTP error body, if it answers `message`. */
function parseErrorFor(text: string, message: JSONRPCMessage): JSONRPCMessage | undefined {
  if (!("id" in message) || !("method" in message)) return undefined;
  try {
    const parsed = JSON.parse(text) as { id?: unknown; error?: unknown };
    return parsed && parsed.id === message.id && parsed.error ? (parsed as JSONRPCMessage) : undefined;
  } catch {
    return undefined;
  }
}
