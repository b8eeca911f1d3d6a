import { setMaxListeners } from "node:events";
import { SSEClientTransport, StreamableHTTPClientTransport, type FetchLike, type Transport } from "@modelcontextprotocol/client";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";
import type { ResolvedUpstream } from "../config/types.ts";
import { HttpClientTransport } from "./http-client-transport.ts";

/**
 * Build the client transport for one upstream.
 * For stdio, the child's stderr is piped and handed to `onStderrLine` line by line (never forwarded to clients).
 * A streamable-HTTP upstream whose era is known (configured, or learned by an earlier probe) gets the lean
 * `node:http` transport; the SDK's transport only runs the first `auto` probe.
 */
export function createClientTransport(
  config: ResolvedUpstream,
  onStderrLine: (line: string) => void,
  options: { leanHttp?: boolean; requestHeaders?: () => Readonly<Record<string, string>> | undefined } = {},
): Transport {
  switch (config.type) {
    case "stdio": {
      const transport = new StdioClientTransport({
        command: config.command,
        args: [...config.args],
        env: { ...getDefaultEnvironment(), ...config.env },
        cwd: config.cwd,
        stderr: "pipe",
      });
      pipeLines(transport, onStderrLine);
      return transport;
    }
    case "streamable-http":
      if (options.leanHttp) return new HttpClientTransport(new URL(config.url), { headers: config.headers, requestHeaders: options.requestHeaders });
      return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers }, fetch: fetchSharingSignal(options.requestHeaders) });
    case "sse":
    default:
      // Local entries are served in process (src/upstreams/local) and never get a client transport.
      if (!("url" in config)) throw new Error(`upstream "${config.name}" has no client transport`);
      return new SSEClientTransport(new URL(config.url), {
        requestInit: { headers: config.headers },
        eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...config.headers } }) },
      });
  }
}

function pipeLines(transport: StdioClientTransport, onLine: (line: string) => void): void {
  // `stderr` exists as soon as the transport is constructed with `stderr: "pipe"` (a PassThrough).
  const stream = transport.stderr;
  if (!stream) return;
  let buffered = "";
  stream.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let index: number;
    while ((index = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, index).trimEnd();
      buffered = buffered.slice(index + 1);
      if (line) onLine(line.slice(0, 2000));
    }
    if (buffered.length > 64 * 1024) {
      onLine(buffered.slice(0, 2000));
      buffered = "";
    }
  });
}

/**
 * The SDK transport passes one long-lived AbortSignal to every fetch; undici removes its per-request abort
 * listener only when the request is garbage-collected, so a busy upstream trips Node's MaxListeners warning
 * although nothing leaks. Lift the limit on exactly those signals.
 */
function fetchSharingSignal(requestHeaders?: () => Readonly<Record<string, string>> | undefined): FetchLike {
  const seen = new WeakSet<AbortSignal>();
  return (url, init) => {
    const signal = init?.signal;
    if (signal && !seen.has(signal)) {
      seen.add(signal);
      setMaxListeners(0, signal);
    }
    const extra = requestHeaders?.();
    if (!extra) return fetch(url, init);
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(extra)) headers.set(name, value);
    return fetch(url, { ...init, headers });
  };
}
