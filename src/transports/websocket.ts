import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import type { Server } from "@modelcontextprotocol/server";
import { serveStdio, type StdioServerHandle } from "@modelcontextprotocol/server/stdio";
import { getWebSocketHooks, setWebSocketHooks, type Hooks } from "crossws";
import nodeAdapter from "crossws/adapters/node";
import type { Identity } from "../auth/types.ts";
import type { SessionInfo } from "../runtime/session-server.ts";
import type { SessionStore } from "../runtime/sessions.ts";
import { resourceSubscriptionsOf, type ListenResources } from "../runtime/listen-resources.ts";
import { WsServerTransport } from "./ws-transport.ts";

/** The WebSocket subprotocol MCP clients offer. */
export const MCP_WS_SUBPROTOCOL = "mcp";

export interface WebSocketEndpointOptions {
  sessions: SessionStore;
  createServer: (info: SessionInfo) => Server;
  /** Largest accepted message in bytes (`config.server.maxBodySize`). */
  maxBodySize: number;
  /** Bytes queued for a slow client before its connection is closed. Default 16 MiB. */
  maxQueueBytes?: number;
  /** Out-of-band errors of a connection (a malformed opening message, a late instance), for debug logs. */
  onerror?: (error: Error) => void;
  /** Upstream subscriptions for a 2026-07-28 listen stream's `resourceSubscriptions` (see listen-resources.ts). */
  listenResources?: ListenResources;
}

/** Builds a `/ws`-style endpoint; `server` scopes its sessions to a virtual server (`/servers/<name>/ws`). */
export interface WebSocketEndpointFactory {
  (scope?: { server?: string }): (request: Request, identity?: Identity) => Promise<Response>;
  /** Close every open connection with 1000, including those that have not sent their opening message yet. */
  closeAll(): Promise<void>;
}

/**
 * MCP over WebSocket: run it behind the same guard as the HTTP routes (origin, plugins, auth happen before the
 * upgrade). It answers with h3's `426` response carrying the crossws hooks for this one connection; the server's
 * upgrade listener (see {@link createUpgradeHandler}) picks them up.
 *
 * Both protocol eras, as over stdio (the SDK's `serveStdio` owns the choice): a connection that opens with
 * `initialize` is one 2025-era session; one that opens with a 2026-07-28 request (`server/discover`, or any request
 * carrying the per-request envelope) is pinned to a 2026-07-28 instance, with `subscriptions/listen` served on the
 * same socket. Either way the instance is registered as a session for the connection's lifetime, so catalog changes
 * and per-session upstreams reach it.
 */
export function createWebSocketEndpoint(options: WebSocketEndpointOptions): WebSocketEndpointFactory {
  const live = new Set<StdioServerHandle>();
  const factory = (scope: { server?: string } = {}) =>
    async (request: Request, identity?: Identity): Promise<Response> => {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("WebSocket upgrade required (subprotocol mcp)", { status: 426, headers: { upgrade: "websocket" } });
      }
      const hooks = connectionHooks(options, live, { identity, server: scope.server });
      // Also on the request: the rebuild-proof channel, should a middleware replace the response.
      setWebSocketHooks(request, hooks);
      return Object.assign(new Response(null, { status: 426 }), { crossws: hooks });
    };
  return Object.assign(factory, {
    async closeAll() {
      const handles = [...live];
      live.clear();
      await Promise.allSettled(handles.map((handle) => handle.close()));
    },
  });
}

function connectionHooks(options: WebSocketEndpointOptions, live: Set<StdioServerHandle>, who: { identity?: Identity; server?: string }): Partial<Hooks> {
  let transport: WsServerTransport | undefined;
  let handle: StdioServerHandle | undefined;
  const listens = new Map<string | number, Promise<() => void>>();
  const letGo = (id: string | number) => {
    void listens.get(id)?.then((release) => release());
    listens.delete(id);
  };
  const ended = () => {
    if (handle) live.delete(handle);
    for (const id of [...listens.keys()]) letGo(id);
    transport?.closed();
  };
  return {
    upgrade(request) {
      const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      return offered.includes(MCP_WS_SUBPROTOCOL) ? { protocol: MCP_WS_SUBPROTOCOL } : {};
    },
    open(peer) {
      transport = new WsServerTransport(peer, { maxMessageBytes: options.maxBodySize, maxQueueBytes: options.maxQueueBytes });
      const wire = transport;
      // One instance per era the connection opens in (a discarded `server/discover` probe is closed, and so removed).
      handle = serveStdio(
        ({ era }) => {
          const info: SessionInfo = { id: era === "legacy" ? wire.sessionId : randomUUID(), subscriptions: new Set(), identity: who.identity, server: who.server };
          const server = options.createServer(info);
          options.sessions.add({ info, kind: "ws", era, server });
          server.onclose = () => options.sessions.delete(info.id);
          return server;
        },
        { transport: wire, onerror: options.onerror },
      );
      live.add(handle);
      if (options.listenResources) watchListens(wire, options.listenResources, who, listens, letGo);
    },
    message(_peer, message) {
      transport?.receive(message.text());
    },
    close: ended,
    error: ended,
  };
}

/**
 * The SDK serves `subscriptions/listen` on the socket itself (serveStdio's entry): watch the messages around it to
 * hold upstream resource subscriptions from the listen request until it is cancelled, refused, or the socket ends.
 */
function watchListens(
  wire: WsServerTransport,
  listenResources: ListenResources,
  who: { identity?: Identity; server?: string },
  listens: Map<string | number, Promise<() => void>>,
  letGo: (id: string | number) => void,
): void {
  const inbound = wire.onmessage;
  wire.onmessage = (message, extra) => {
    const m = message as { id?: string | number; method?: string; params?: { requestId?: string | number } };
    if (m.id !== undefined && m.method === "subscriptions/listen") {
      const uris = resourceSubscriptionsOf(message);
      if (uris.length > 0 && !listens.has(m.id)) listens.set(m.id, listenResources(uris, who, new Headers()));
    } else if (m.method === "notifications/cancelled" && m.params?.requestId !== undefined) {
      letGo(m.params.requestId);
    }
    inbound?.(message, extra);
  };
  const send = wire.send.bind(wire);
  wire.send = (message) => {
    // A listen that ends with a response (refused, or closed by the server) no longer needs its subscriptions.
    const m = message as { id?: string | number; method?: string };
    if (m.id !== undefined && m.method === undefined && listens.has(m.id)) letGo(m.id);
    return send(message);
  };
}

/** Node `upgrade` listener for a gateway: `server.on("upgrade", gw.handleUpgrade)`; `close()` drops every socket. */
export interface UpgradeHandler {
  (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  close(): void;
}

/**
 * Serve WebSocket upgrades by asking `fetch` (the gateway's h3 app) for the hooks: a refused request (403, 401,
 * 404…) is written back as that HTTP response. `maxPayload` bounds incoming frames; `pingIntervalMs` pings idle
 * sockets and drops those that stop answering.
 */
export function createUpgradeHandler(
  fetch: (request: Request) => Response | Promise<Response>,
  options: { maxPayload: number; pingIntervalMs?: number },
): UpgradeHandler {
  const adapter = nodeAdapter({
    idleTimeout: (options.pingIntervalMs ?? 30_000) / 1000,
    serverOptions: { maxPayload: options.maxPayload },
    resolve: async (request) => {
      const response = (await fetch(request)) as Response & { crossws?: Partial<Hooks> };
      const hooks = response.crossws ?? (response.status === 426 ? getWebSocketHooks(request) : undefined);
      if (hooks) return hooks;
      const refused = response.status === 426 ? new Response("Not a WebSocket endpoint", { status: 404 }) : response;
      return { upgrade: () => refused };
    },
  });
  const handle = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(key, value);
      else if (Array.isArray(value)) headers.set(key, value.join(", "));
    }
    return adapter.handleUpgrade(req, socket, head, new Request(url, { method: "GET", headers }));
  };
  return Object.assign(handle, { close: () => adapter.closeAll(1001, "server shutting down", true) });
}
