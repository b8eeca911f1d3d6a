import { randomUUID } from "node:crypto";
import {
  WebStandardStreamableHTTPServerTransport,
  classifyInboundRequest,
  isInitializeRequest,
  type McpHttpHandler,
  type Server,
} from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import type { SessionInfo } from "../runtime/session-server.ts";
import type { SessionStore } from "../runtime/sessions.ts";
import { readJsonBody, rpcErrorResponse } from "./http-guards.ts";
import { abortFastCalls, answerFast, cancelFastCall, fastRequestOf } from "./fast-path.ts";
import { answerModernFast, handOver, modernFastRequestOf, type KnownEnvelopes, type ModernFastOptions, type ModernHandoffs } from "./fast-path-modern.ts";
import { toAuthInfo } from "../auth/authenticate.ts";
import { releasedWith, resourceSubscriptionsOf, type ListenResources } from "../runtime/listen-resources.ts";
import type { Identity } from "../auth/types.ts";

const authOf = (identity: Identity | undefined) => (identity ? { authInfo: toAuthInfo(identity) } : {});

/** Same caller: both anonymous, or the same subject from the same provider. */
export function sameIdentity(a: Identity | undefined, b: Identity | undefined): boolean {
  return a?.subject === b?.subject && a?.provider === b?.provider;
}

/** Protocol versions that still allowed JSON-RPC batches (removed in 2025-06-18). */
const BATCH_VERSIONS = new Set(["2024-11-05", "2025-03-26"]);

export interface StreamableHttpOptions {
  sessions: SessionStore;
  /** The SDK's 2026-07-28 per-request handler (strict: legacy traffic never reaches it). */
  modern: McpHttpHandler;
  createServer: (info: SessionInfo) => Server;
  maxBodySize: number;
  /** Virtual server this endpoint serves; its sessions are not reachable through another endpoint. */
  server?: string;
  /** The 2026-07-28 fast path (see fast-path-modern.ts); `handoffs` is what `modern`'s server factory reads. */
  modernFast?: Omit<ModernFastOptions, "viaSdk"> & { handoffs: ModernHandoffs; envelopes: KnownEnvelopes };
  /** Upstream subscriptions for a 2026-07-28 listen stream's `resourceSubscriptions` (see listen-resources.ts). */
  listenResources?: ListenResources;
}

/**
 * `/mcp` for both protocol eras at one URL: requests carrying the 2026-07-28 `_meta` envelope go to the
 * stateless handler; everything else is the 2025-era session protocol (`initialize` → `Mcp-Session-Id`,
 * GET stream, DELETE).
 */
export function createStreamableHttpHandler(options: StreamableHttpOptions): (request: Request, identity?: Identity) => Promise<Response> {
  const { sessions, modern } = options;

  const openSession = async (request: Request, body: unknown, identity: Identity | undefined): Promise<Response> => {
    const info: SessionInfo = { id: randomUUID(), subscriptions: new Set(), identity, server: options.server };
    const server = options.createServer(info);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => info.id,
      onsessioninitialized: () => sessions.add({ info, kind: "streamable-http", server }),
      onsessionclosed: () => sessions.delete(info.id),
      maxRequestBodySize: options.maxBodySize,
    });
    server.onclose = () => {
      sessions.delete(info.id);
      abortFastCalls(info);
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody: body, ...authOf(identity) });
    if (!sessions.get(info.id, "streamable-http")) await server.close();
    return response;
  };

  const sessionFor = (request: Request) => {
    const id = request.headers.get("mcp-session-id");
    if (!id) return undefined;
    const session = sessions.get(id, "streamable-http");
    return { id, session: session?.info.server === options.server ? session : undefined };
  };

  const viaSession = async (request: Request, identity: Identity | undefined, body?: unknown): Promise<Response> => {
    const found = sessionFor(request);
    if (!found) {
      return rpcErrorResponse(400, JsonRpcCode.InvalidRequest, "Bad Request: Mcp-Session-Id header is required");
    }
    // A session is bound to the identity that opened it: someone else presenting its id finds nothing.
    if (!found.session || !sameIdentity(found.session.info.identity, identity)) {
      return rpcErrorResponse(404, JsonRpcCode.SessionNotFound, "Session not found");
    }
    const transport = found.session.server.transport as WebStandardStreamableHTTPServerTransport;
    const response = await transport.handleRequest(request, { ...(body === undefined ? {} : { parsedBody: body }), ...authOf(identity) });
    return request.method === "GET" ? flushSseHeaders(response) : response;
  };

  /** A POST of the 2025-era session protocol: `initialize` opens a session, anything else needs one. */
  const serveLegacy = async (request: Request, body: unknown, identity: Identity | undefined): Promise<Response> => {
    if (!request.headers.get("mcp-session-id") && isInitializeRequest(body)) return openSession(request, body, identity);
    if (typeof body !== "object" || body === null || (body as { jsonrpc?: unknown }).jsonrpc !== "2.0") {
      return rpcErrorResponse(400, JsonRpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message");
    }
    return viaSession(request, identity, body);
  };

  /** A POST outside any session: a 2025-era one (`initialize`, or an unknown session id) or a stateless 2026-07-28 request. */
  const serveUnknown = (request: Request, body: unknown, identity: Identity | undefined): Promise<Response> => {
    const viaModern = async (): Promise<Response> => {
      const uris = options.listenResources ? resourceSubscriptionsOf(body) : [];
      if (uris.length === 0) return modern.fetch(request, { parsedBody: body, ...authOf(identity) });
      // Subscribed upstream before the stream opens, released when it ends (client gone, cancelled, or refused).
      const release = await options.listenResources!(uris, { identity, server: options.server }, request.headers);
      try {
        return releasedWith(await modern.fetch(request, { parsedBody: body, ...authOf(identity) }), release);
      } catch (error) {
        release();
        throw error;
      }
    };
    const fast = options.modernFast;
    let call = fast?.envelopes.lookup(request, body);
    if (!call) {
      // The SDK's own era classification (what `isLegacyRequest` and `modern.fetch` run), done once.
      const { headers } = request;
      const route = classifyInboundRequest({
        httpMethod: "POST",
        protocolVersionHeader: headers.get("mcp-protocol-version") ?? undefined,
        mcpMethodHeader: headers.get("mcp-method") ?? undefined,
        mcpNameHeader: headers.get("mcp-name") ?? undefined,
        body,
      });
      if (route.kind === "legacy") return serveLegacy(request, body, identity);
      call = fast && modernFastRequestOf(request, route);
      if (call) fast?.envelopes.accept(body);
    }
    if (!fast || !call) return viaModern();
    const { id } = call;
    return answerModernFast(call, request, identity, options.server, {
      ...fast,
      viaSdk: (handoff) => handOver(fast.handoffs, request, id, handoff, viaModern),
    });
  };

  return async (request, identity) => {
    if (request.method === "GET" || request.method === "DELETE") return viaSession(request, identity);
    if (request.method !== "POST") {
      return rpcErrorResponse(405, JsonRpcCode.InvalidRequest, "Method not allowed", { allow: "GET, POST, DELETE" });
    }
    const read = await readJsonBody(request, options.maxBodySize);
    if ("response" in read) return read.response;
    const body = read.value;
    if (Array.isArray(body) && !BATCH_VERSIONS.has(request.headers.get("mcp-protocol-version") ?? "")) {
      return rpcErrorResponse(400, JsonRpcCode.InvalidRequest, "Invalid Request: JSON-RPC batches are not supported by this protocol version");
    }
    // A request for a live 2025-era session is legacy by definition: skip the SDK's (costly) classification.
    const known = sessionFor(request)?.session;
    if (known && sameIdentity(known.info.identity, identity)) {
      // Its tools/call and lists skip the SDK's transport and Server (see fast-path.ts).
      const call = known.info.direct ? fastRequestOf(request, body) : undefined;
      if (call) return answerFast(known.info, call, request, identity, () => viaSession(request, identity, body));
      cancelFastCall(known.info, body);
    }
    if (!known) return serveUnknown(request, body, identity);
    return serveLegacy(request, body, identity);
  };
}

const SSE_OPEN_COMMENT = new TextEncoder().encode(": open\n\n");

/**
 * Node sends response headers only with the first body byte, and the SDK's standalone GET stream stays
 * silent until a notification or its 15 s keep-alive: start it with an SSE comment so the client sees 200 at once.
 */
function flushSseHeaders(response: Response): Response {
  if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({ start: (controller) => controller.enqueue(SSE_OPEN_COMMENT) }),
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
