import { randomUUID } from "node:crypto";
import { createMcpHandler, type McpHttpHandler, type McpServerFactory, type Server } from "@modelcontextprotocol/server";
import { identityOf } from "../auth/authenticate.ts";
import type { Identity } from "../auth/types.ts";
import type { Logger } from "../_utils/logger.ts";
import { createLegacySseHandlers } from "../transports/legacy-sse.ts";
import { createStreamableHttpHandler } from "../transports/streamable-http.ts";
import type { WebSocketEndpointFactory } from "../transports/websocket.ts";
import { KnownEnvelopes, type ModernFastOptions, type ModernHandoffs } from "../transports/fast-path-modern.ts";
import type { SessionInfo } from "./session-server.ts";
import type { SessionStore } from "./sessions.ts";
import type { ListenResources } from "./listen-resources.ts";

type Handler = (request: Request, identity?: Identity) => Promise<Response>;

/** The transports of one MCP endpoint: the main one, or one virtual server's. */
export interface Endpoint {
  /** The SDK's 2026-07-28 handler (its `notify` reaches that era's listen streams). */
  modern: McpHttpHandler;
  /** `/mcp`: both eras. */
  streamable: Handler;
  /** Legacy `/sse` + `/messages`. */
  sse: { open: Handler; post: Handler };
  ws: Handler;
}

export interface EndpointsOptions {
  sessions: SessionStore;
  createServer: (info: SessionInfo) => Server;
  /** Router dispatch without an SDK server, for the 2026-07-28 fast path; omitted = every request takes the SDK's path. */
  modernFast?: Omit<ModernFastOptions, "viaSdk">;
  webSocket: WebSocketEndpointFactory;
  /** Upstream subscriptions held for 2026-07-28 listen streams (see listen-resources.ts). */
  listenResources?: ListenResources;
  maxBodySize: number;
  keepAliveMs?: number;
  log: Logger;
}

/**
 * One {@link Endpoint} per served catalog, built on first use. A virtual server's sessions belong to its endpoint:
 * dropping the endpoint (server removed or disabled) closes them.
 */
export class Endpoints {
  readonly #options: EndpointsOptions;
  readonly #endpoints = new Map<string | undefined, Endpoint>();

  constructor(options: EndpointsOptions) {
    this.#options = options;
  }

  /** `undefined` = the main endpoint. */
  get(server: string | undefined): Endpoint {
    let endpoint = this.#endpoints.get(server);
    if (!endpoint) {
      endpoint = this.#create(server);
      this.#endpoints.set(server, endpoint);
    }
    return endpoint;
  }

  /** Every 2026-07-28 handler in use, for notification fan-out. */
  modernHandlers(): McpHttpHandler[] {
    return [...this.#endpoints.values()].map((e) => e.modern);
  }

  /** Close a virtual server's sessions and handler (it was removed or disabled). */
  async drop(server: string): Promise<void> {
    const endpoint = this.#endpoints.get(server);
    this.#endpoints.delete(server);
    const closing = [...this.#options.sessions.values()].filter((s) => s.info.server === server).map((s) => s.server.close().catch(() => {}));
    await Promise.all([...closing, endpoint?.modern.close()]);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#endpoints.values()].map((e) => e.modern.close()));
    this.#endpoints.clear();
  }

  #create(server: string | undefined): Endpoint {
    const { sessions, createServer, maxBodySize, log } = this.#options;
    const handoffs: ModernHandoffs = new WeakMap();
    const modernFast = this.#options.modernFast && { ...this.#options.modernFast, handoffs, envelopes: new KnownEnvelopes() };
    const factory: McpServerFactory = (ctx) =>
      createServer({
        id: randomUUID(),
        subscriptions: new Set(),
        identity: identityOf(ctx.authInfo),
        server,
        fast: ctx.requestInfo ? handoffs.get(ctx.requestInfo) : undefined,
      });
    const modern = createMcpHandler(factory, {
      legacy: "reject",
      maxRequestBodySize: maxBodySize,
      onerror: (error) => log.debug(`modern handler${server ? ` (server ${server})` : ""}: ${error.message}`),
    });
    return {
      modern,
      streamable: createStreamableHttpHandler({ sessions, modern, createServer, maxBodySize, server, modernFast, listenResources: this.#options.listenResources }),
      // Relative to the `/sse` URL, so the client posts under whatever prefix the endpoint is mounted at.
      sse: createLegacySseHandlers({ sessions, createServer, messagesPath: "messages", maxBodySize, keepAliveMs: this.#options.keepAliveMs, server }),
      ws: this.#options.webSocket({ server }),
    };
  }
}
