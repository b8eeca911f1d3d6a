import { JsonRpcCode } from "../errors.ts";
import type { SessionInfo } from "../runtime/session-server.ts";
import type { SessionStore } from "../runtime/sessions.ts";
import type { JSONRPCMessage, Server } from "@modelcontextprotocol/server";
import { abortFastCalls, cancelFastCall, dispatchFast, fastCallOf } from "./fast-path.ts";
import { readJsonBody, rpcErrorResponse } from "./http-guards.ts";
import { SseServerTransport } from "./sse-transport.ts";
import { sameIdentity } from "./streamable-http.ts";
import type { Identity } from "../auth/types.ts";

export interface LegacySseOptions {
  sessions: SessionStore;
  createServer: (info: SessionInfo) => Server;
  messagesPath: string;
  maxBodySize: number;
  /** Interval of `: ping` frames on idle streams, in ms (default 15 000). */
  keepAliveMs?: number;
  /** Virtual server this endpoint serves; its sessions are not reachable through another endpoint. */
  server?: string;
}

/** The 2024-11-05 HTTP+SSE transport: `GET /sse` opens a session, `POST /messages?sessionId=` feeds it. */
export function createLegacySseHandlers(options: LegacySseOptions): {
  open: (request: Request, identity?: Identity) => Promise<Response>;
  post: (request: Request, identity?: Identity) => Promise<Response>;
} {
  const { sessions } = options;
  return {
    async open(_request, identity) {
      const transport = new SseServerTransport({ messagesPath: options.messagesPath, keepAliveMs: options.keepAliveMs });
      const info: SessionInfo = { id: transport.sessionId, subscriptions: new Set(), identity, server: options.server };
      const server = options.createServer(info);
      sessions.add({ info, kind: "sse", server });
      server.onclose = () => {
        sessions.delete(info.id);
        abortFastCalls(info);
      };
      const response = transport.response();
      await server.connect(transport);
      return response;
    },
    async post(request, identity) {
      const id = new URL(request.url).searchParams.get("sessionId") ?? "";
      const session = sessions.get(id, "sse");
      if (!session || session.info.server !== options.server || !sameIdentity(session.info.identity, identity)) return rpcErrorResponse(404, JsonRpcCode.SessionNotFound, "Session not found");
      const read = await readJsonBody(request, options.maxBodySize);
      if ("response" in read) return read.response;
      const transport = session.server.transport as SseServerTransport;
      const { info } = session;
      // After the handshake, tools/call and the lists skip the SDK's Server as on streamable HTTP (see fast-path.ts);
      // the answer goes out on the session's stream like the SDK's would.
      const call = info.direct && session.server.getClientVersion() ? fastCallOf(read.value) : undefined;
      if (!call) {
        cancelFastCall(info, read.value);
        return transport.handlePostMessage(request, read.value);
      }
      void dispatchFast(info, call, request.headers, identity)
        .then(async (message) => {
          if (message) await transport.send(message as JSONRPCMessage);
          else await transport.handlePostMessage(request, read.value);
        })
        // The stream is gone (the session closed meanwhile): nobody is left to answer.
        .catch(() => {});
      return new Response("Accepted", { status: 202 });
    },
  };
}
