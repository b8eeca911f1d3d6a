import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { serve } from "srvx";
import type { Gateway } from "../runtime/gateway.ts";
import { GatewayError } from "../errors.ts";

/** Transports `gateway translate --stdio` can expose. */
export const EXPOSABLE = ["sse", "streamable-http", "ws"] as const;
/** One exposable transport. */
export type Exposed = (typeof EXPOSABLE)[number];

/** Parse `--expose sse,streamable-http,ws` (`http` is accepted for streamable-http). */
export function parseExpose(value: string): Set<Exposed> {
  const out = new Set<Exposed>();
  for (const raw of value.split(",").map((v) => v.trim().toLowerCase()).filter(Boolean)) {
    const name = raw === "http" || raw === "streamablehttp" ? "streamable-http" : raw === "websocket" ? "ws" : raw;
    if (!(EXPOSABLE as readonly string[]).includes(name)) throw new GatewayError("BAD_REQUEST", `--expose takes ${EXPOSABLE.join(", ")}; got "${raw}"`);
    out.add(name as Exposed);
  }
  if (out.size === 0) throw new GatewayError("BAD_REQUEST", "--expose needs at least one transport");
  return out;
}

export interface TranslateServerOptions {
  expose: Set<Exposed>;
  /** Path of the health endpoint, e.g. `/health`. */
  healthPath: string;
  /** Origins that get CORS headers (and pass the origin check); `*` for any. */
  cors: readonly string[];
  host: string;
  port: number;
}

const ROUTES: Record<Exposed, string[]> = { "streamable-http": ["/mcp"], sse: ["/sse", "/messages", "/message"], ws: ["/ws"] };
const CORS_HEADERS = {
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": "content-type, authorization, mcp-session-id, mcp-protocol-version, last-event-id",
  "access-control-expose-headers": "mcp-session-id, mcp-protocol-version",
  "access-control-max-age": "600",
};

/**
 * Serve a gateway with only the exposed transports: unexposed paths are 404, `/message` is an alias of the legacy
 * `/messages`, the health endpoint lives at `healthPath`, allowed browser origins get CORS headers.
 */
export async function serveTranslated(gateway: Gateway, options: TranslateServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const allowed = new Set([...options.expose].flatMap((name) => ROUTES[name]));
  const corsFor = (request: Request): Record<string, string> => {
    const origin = request.headers.get("origin");
    if (!origin || !(options.cors.includes("*") || options.cors.includes(origin))) return {};
    return { ...CORS_HEADERS, "access-control-allow-origin": origin, vary: "origin" };
  };
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const cors = corsFor(request);
    if (url.pathname === options.healthPath) url.pathname = "/health";
    else if (!allowed.has(url.pathname)) return new Response("Not Found", { status: 404 });
    else if (url.pathname === "/message") url.pathname = "/messages";
    if (request.method === "OPTIONS") return new Response(null, { status: Object.keys(cors).length ? 204 : 403, headers: cors });
    const forwarded = url.href === request.url ? request : new Request(url, { method: request.method, headers: request.headers, body: request.body, duplex: "half" } as RequestInit);
    const response = await gateway.fetch(forwarded);
    if (!Object.keys(cors).length || (response as { crossws?: unknown }).crossws) return response;
    const headers = new Headers(response.headers);
    for (const [key, value] of Object.entries(cors)) headers.set(key, value);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
  const server = serve({ fetch, port: options.port, hostname: options.host, silent: true, gracefulShutdown: false });
  await server.ready();
  server.node?.server?.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!options.expose.has("ws") || new URL(req.url ?? "/", "http://x").pathname !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    void gateway.handleUpgrade(req, socket, head);
  });
  return { url: server.url!.replace(/\/$/, ""), close: () => server.close(true) };
}
