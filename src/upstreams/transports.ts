import { setMaxListeners } from "node:events";
import type { Readable } from "node:stream";
import { SSEClientTransport, StreamableHTTPClientTransport, type FetchLike, type Transport } from "@modelcontextprotocol/client";
import { getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";
import type { ResolvedUpstream } from "../config/types.ts";
import { splitLines } from "../_utils/line-splitter.ts";
import { HttpClientTransport } from "./http-client-transport.ts";
import { StdioClientTransport } from "./stdio-client-transport.ts";
import { WsClientTransport } from "./ws-client-transport.ts";

/**
 * Build the client transport for one upstream.
 * For stdio, the child's stderr is piped and handed to `onStderrLine` line by line, and stdout lines that are not
 * JSON-RPC go to `onNoise` (neither is ever forwarded to clients).
 * A streamable-HTTP upstream whose era is known (configured, or learned by an earlier probe) gets the lean
 * `node:http` transport; the SDK's transport only runs the first `auto` probe.
 */
export function createClientTransport(
  config: ResolvedUpstream,
  onStderrLine: (line: string) => void,
  options: { leanHttp?: boolean; requestHeaders?: () => Readonly<Record<string, string>> | undefined; onNoise?: (line: string) => void } = {},
): Transport {
  switch (config.type) {
    case "stdio": {
      const transport = new StdioClientTransport({
        command: config.command,
        args: [...config.args],
        env: { ...getDefaultEnvironment(), ...config.env },
        cwd: config.cwd,
        stderr: "pipe",
        onNoise: options.onNoise,
      });
      pipeLines(transport.stderr!, onStderrLine);
      return transport;
    }
    case "streamable-http":
      if (options.leanHttp) return new HttpClientTransport(new URL(config.url), { headers: config.headers, requestHeaders: options.requestHeaders });
      return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers }, fetch: fetchSharingSignal(options.requestHeaders) });
    case "websocket":
      return new WsClientTransport(new URL(config.url), { headers: config.headers, handshakeTimeoutMs: Math.min(config.timeout, 10_000) });
    case "sse":
    default:
      // Local entries are served in process (src/upstreams/local) and never get a client transport.
      if (!("url" in config)) throw new Error(`upstream "${config.name}" has no client transport`);
      return new SSEClientTransport(new URL(config.url), {
        requestInit: { headers: config.headers },
        fetch: fetchSharingSignal(),
        eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...config.headers } }) },
      });
  }
}

function pipeLines(stream: Readable, onLine: (line: string) => void): void {
  splitLines(stream, 64 * 1024, {
    line: (line) => onLine(line.trimEnd().slice(0, 2000)),
    tooLong: (bytes) => onLine(`(a stderr line over ${bytes} bytes was dropped)`),
  });
}

/**
 * The SDK transports (streamable HTTP, and SSE for its POSTs) pass one long-lived AbortSignal to every fetch; undici removes its per-request abort
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
