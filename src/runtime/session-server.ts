import {
  ProtocolError,
  Server,
  type RequestStateCodec,
  type ServerCapabilities,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import { settlesWithin } from "../_utils/timers.ts";
import type { CallContext, RequestStatePayload, RoutedMethod, Router } from "./router.ts";
import { identityOf } from "../auth/authenticate.ts";
import type { Identity } from "../auth/types.ts";

/** What the gateway offers every client; each method is answered even when no upstream supports it. */
export const GATEWAY_CAPABILITIES: ServerCapabilities = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  completions: {},
  logging: {},
};

/** Per client session (legacy) or per request (2026-07-28) state the handlers need. */
export interface SessionInfo {
  id: string;
  subscriptions: Set<string>;
  /** Level set by `logging/setLevel`; upstream log messages below it are not sent to this client. */
  logLevel?: string;
  /** Who opened the session (or sent the stateless request); a session is bound to it. */
  identity?: Identity;
  /** Virtual server the client connected to (`/servers/<name>/...`); undefined = the whole catalog. */
  server?: string;
  /** Set by {@link createSessionServer}: the router entry its SDK handlers use, for the streamable-HTTP fast path. */
  direct?: DirectDispatch;
  /** 2025-era requests the fast path serves itself (see `src/transports/fast-path.ts`). */
  fast?: FastCalls;
}

/** Router.dispatch with the context an SDK handler would build (no progress, no request state); throws a ProtocolError. */
export type DirectDispatch = (
  method: RoutedMethod,
  params: Record<string, unknown>,
  call: { signal: AbortSignal; headers: Headers; identity?: Identity },
) => Promise<Record<string, unknown>>;

/** Fast-path bookkeeping of one 2025-era session (or one 2026-07-28 request), keyed by JSON-RPC request id. */
export interface FastCalls {
  /** Requests in flight: a `notifications/cancelled` or the end of the session aborts them. */
  inflight: Map<string | number, AbortController>;
  /** First-round outcomes only the SDK can deliver (its legacy input shim, its encodings, its errors): its handler returns them. */
  handoff: Map<string | number, Handoff>;
}

/** What the fast path computed for a request it hands to the SDK: a result, or the error the router threw. */
export type Handoff = { controller: AbortController } & ({ result: Record<string, unknown> } | { error: unknown });

export interface SessionServerDeps {
  router: Router;
  codec: RequestStateCodec<RequestStatePayload>;
  serverInfo: { name: string; version: string };
  log: Logger;
}

const ROUTED_METHODS: RoutedMethod[] = [
  "tools/list",
  "prompts/list",
  "resources/list",
  "resources/templates/list",
  "tools/call",
  "prompts/get",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "completion/complete",
  "logging/setLevel",
];

/**
 * A low-level SDK `Server` whose handlers all delegate to the era-independent router.
 * The SDK does the era work: `initialize` vs `server/discover`, and `input_required` vs server→client requests.
 */
export function createSessionServer(deps: SessionServerDeps, session: SessionInfo): Server {
  const { router, codec } = deps;
  const server = new Server(deps.serverInfo, {
    capabilities: GATEWAY_CAPABILITIES,
    requestState: { verify: (state, ctx) => codec.verify(state, ctx) },
  });

  /** `sent` collects the progress notifications handed to the SDK, so the result can wait until they are out. */
  const context = (params: Record<string, unknown> | undefined, ctx: ServerContext, sent: Promise<unknown>[]): CallContext => {
    const token = (params?._meta as Record<string, unknown> | undefined)?.progressToken ?? ctx.mcpReq._meta?.progressToken;
    return {
      sessionId: session.id,
      signal: ctx.mcpReq.signal,
      progress:
        token === undefined
          ? undefined
          : (progress) => {
              sent.push(ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken: token as string, ...progress } }).catch(() => {}));
            },
      requestState: ctx.mcpReq.requestState<RequestStatePayload>() as RequestStatePayload | undefined,
      inputResponses: ctx.mcpReq.inputResponses,
      mintState: (payload) => codec.mint(payload),
      subscriptions: session.subscriptions,
      headers: ctx.http?.req?.headers,
      identity: identityOf(ctx.http?.authInfo) ?? session.identity,
      server: session.server,
    };
  };

  session.direct = directDispatch(deps, session);

  const handle = <M extends string>(
    method: M,
    run: (params: Record<string, unknown>, ctx: ServerContext) => Record<string, unknown> | Promise<Record<string, unknown>>,
  ) => {
    server.setRequestHandler(method as "ping", async (request: { params?: unknown }, ctx: ServerContext) => {
      const handed = takeHandoff(session, ctx);
      if (handed) return handed as never;
      const scope = requestScope(ctx);
      try {
        return (await run((request.params ?? {}) as Record<string, unknown>, scope.ctx)) as never;
      } catch (error) {
        throw toProtocolError(error, deps.log);
      } finally {
        scope.end();
      }
    });
  };

  for (const method of ROUTED_METHODS) {
    handle(method, async (params, ctx) => {
      if (method === "logging/setLevel") session.logLevel = String(params.level ?? "");
      const sent: Promise<unknown>[] = [];
      const result = await router.dispatch(method, params, context(params, ctx, sent));
      // A progress notification still being written when the response closes its stream would be lost (a stuck
      // stream must not hold the response back either).
      if (sent.length > 0) await settlesWithin(Promise.allSettled(sent), 1000);
      return result;
    });
  }
  return server;
}

/**
 * Router.dispatch for `session` without an SDK `Server`: what the fast paths answer with (a 2025-era session's
 * requests, and 2026-07-28 requests that need nothing from the SDK).
 */
export function directDispatch(deps: Pick<SessionServerDeps, "router" | "codec" | "log">, session: SessionInfo): DirectDispatch {
  const { router, codec } = deps;
  return (method, params, call) =>
    router
      .dispatch(method, params, {
        sessionId: session.id,
        signal: call.signal,
        mintState: (payload) => codec.mint(payload),
        subscriptions: session.subscriptions,
        headers: call.headers,
        identity: call.identity ?? session.identity,
        server: session.server,
      })
      .catch((error: unknown) => {
        throw toProtocolError(error, deps.log);
      });
}

/**
 * The first-round outcome the fast path computed for this request, if it handed the request to the SDK (a thrown
 * error is thrown again). For a 2025-era request the flow it started listens to the fast path's signal: the SDK's
 * (client cancel, session close) now drives it. A 2026-07-28 request is over once answered (see `requestScope`).
 */
function takeHandoff(session: SessionInfo, ctx: ServerContext): Record<string, unknown> | undefined {
  const handed = session.fast?.handoff.get(ctx.mcpReq.id);
  if (!handed) return undefined;
  session.fast!.handoff.delete(ctx.mcpReq.id);
  if (ctx.mcpReq.envelope === undefined) {
    const follow = () => handed.controller.abort(ctx.mcpReq.signal.reason);
    if (ctx.mcpReq.signal.aborted) follow();
    else ctx.mcpReq.signal.addEventListener("abort", follow, { once: true });
  }
  if ("error" in handed) throw handed.error;
  return handed.result;
}

/**
 * A 2026-07-28 request ends with its response (an `input_required` one too) and the SDK aborts its signal afterwards:
 * the router gets a signal that follows the client only while the handler runs. A 2025-era request stays open while the
 * SDK's legacy shim asks the client for input, so its own signal is kept: a cancel or session close then reaches the flow.
 */
function requestScope(ctx: ServerContext): { ctx: ServerContext; end(): void } {
  if (ctx.mcpReq.envelope === undefined) return { ctx, end: () => {} };
  const controller = new AbortController();
  const follow = () => controller.abort(ctx.mcpReq.signal.reason);
  if (ctx.mcpReq.signal.aborted) follow();
  else ctx.mcpReq.signal.addEventListener("abort", follow, { once: true });
  return {
    ctx: { ...ctx, mcpReq: { ...ctx.mcpReq, signal: controller.signal } },
    end: () => ctx.mcpReq.signal.removeEventListener("abort", follow),
  };
}

/**
 * The one place gateway and upstream errors become JSON-RPC errors: gateway errors keep their code and
 * safe message; upstream JSON-RPC errors keep code and first message line, never a stack trace.
 * `log` reports unexpected errors (omitted where the error is only described, e.g. for `mcp:error`).
 */
export function toProtocolError(error: unknown, log?: Logger): ProtocolError {
  if (error instanceof GatewayError) return new ProtocolError(error.rpcCode, error.message, error.data);
  if (error instanceof ProtocolError) {
    const data = error.data && typeof error.data === "object" && !Array.isArray(error.data) ? { ...(error.data as Record<string, unknown>) } : error.data;
    if (data && typeof data === "object") delete (data as Record<string, unknown>).stack;
    return new ProtocolError(error.code, stripStack(error.message), data);
  }
  if (error instanceof Error && error.name === "AbortError") {
    return new ProtocolError(JsonRpcCode.InternalError, "Request cancelled");
  }
  log?.error(`unexpected error: ${describeError(error)}`);
  return new ProtocolError(JsonRpcCode.InternalError, "Internal gateway error");
}

function stripStack(message: string): string {
  const index = message.search(/\n\s+at /);
  return (index >= 0 ? message.slice(0, index) : message).slice(0, 2000);
}
