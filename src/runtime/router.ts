import { randomUUID } from "node:crypto";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { resolveResourceUpstream, type Catalog } from "../registry/catalog.ts";
import type { Identity } from "../auth/types.ts";
import type { Upstream, UpstreamRequestOptions } from "../upstreams/types.ts";
import type { PluginRunner } from "../plugins/runner.ts";
import type { HookContext, HookName } from "../plugins/types.ts";
import type { Logger } from "../_utils/logger.ts";
import type { FlowState, InputFlows, ProgressSink } from "./input-flows.ts";
import { paginate } from "./paginate.ts";
import { toProtocolError } from "./session-server.ts";

type Params = Record<string, unknown>;
/** Lifetime of a signed requestState (matches the codec's ttl in gateway.ts). */
export const STATE_TTL_MS = 600_000;
type Result = Record<string, unknown>;

/** What `requestState` carries between rounds of a multi-round-trip call (signed by the gateway). */
export interface RequestStatePayload {
  /** Binding: method + exposed entry name, checked on every retry. */
  b: string;
  /** A gateway-held flow waiting for the client's input. */
  f?: FlowState;
  /** A 2026-07-28 upstream's own `input_required`: its opaque state, echoed back to it. */
  u?: { upstream: string; state?: string };
  /** Single-use nonce of a `u` state (a replayed state would re-run the upstream call). */
  n?: string;
}

/** Everything the router needs to know about the client request it serves; era-independent. */
export interface CallContext {
  /** Client session id (legacy) or per-request id (2026-07-28). */
  sessionId: string;
  signal: AbortSignal;
  /** Set when the client asked for progress. */
  progress?: ProgressSink;
  requestState?: RequestStatePayload;
  inputResponses?: Record<string, unknown>;
  mintState(payload: RequestStatePayload): Promise<string>;
  /** Subscribe/unsubscribe bookkeeping for `resources/updated` delivery. */
  subscriptions?: Set<string>;
  /** Virtual server the client is connected to. */
  server?: string;
  /** Headers of the client's HTTP request. */
  headers?: Headers;
  identity?: Identity;
}

/** What the router asks before it lists or routes an entry (see `src/auth/policy.ts`). */
export interface AccessCheck {
  decide(identity: Identity | undefined, request: { method: string; name?: string; upstream?: string; server?: string }): { allow: boolean };
}

export interface RouterDeps {
  /** The catalog an endpoint sees: `undefined` server = the main endpoint; `undefined` result = no such server. */
  catalog: (server: string | undefined) => Catalog | undefined;
  /** The current authorisation policy, if any (swapped on reload). */
  policy?: () => AccessCheck | undefined;
  /** Told about every finished tools/call, prompts/get and resources/read (per-entry metrics). */
  observe?: (method: RoutedMethod, name: string, latencyMs: number, ok: boolean) => void;
  upstreams: () => ReadonlyMap<string, Upstream>;
  flows: InputFlows;
  pageSize: number;
  /** Tracks which sessions subscribed to which URIs so the last unsubscribe reaches the upstream. */
  isSubscribedElsewhere: (uri: string, sessionId: string) => boolean;
  /** The current plugin pipeline (swapped on reload). */
  plugins: () => PluginRunner;
  log: Logger;
}

/** The method that uses an entry of each list: what list filtering asks the policy about. */
const USE_METHOD = {
  "tools/list": "tools/call",
  "prompts/list": "prompts/get",
  "resources/list": "resources/read",
  "resources/templates/list": "resources/read",
} as const;

interface Listed {
  name: string;
  upstream: string;
  item: Result;
}

const OBSERVED = new Set<RoutedMethod>(["tools/call", "prompts/get", "resources/read"]);

const LIST_KEYS = {
  "tools/list": "tools",
  "prompts/list": "prompts",
  "resources/list": "resources",
  "resources/templates/list": "resourceTemplates",
} as const;

export type ListMethod = keyof typeof LIST_KEYS;

/** Every MCP method the gateway routes itself (the SDK answers initialize, server/discover, ping and listen). */
export type RoutedMethod =
  | ListMethod
  | "tools/call"
  | "prompts/get"
  | "resources/read"
  | "resources/subscribe"
  | "resources/unsubscribe"
  | "completion/complete"
  | "logging/setLevel";

type BeforeHook = "tools/call:before" | "prompts/get:before" | "resources/read:before" | "completion/complete:before";
type AfterHook = Exclude<HookName, BeforeHook | "mcp:before" | "mcp:after">;

const BEFORE: Partial<Record<RoutedMethod, BeforeHook>> = {
  "tools/call": "tools/call:before",
  "prompts/get": "prompts/get:before",
  "resources/read": "resources/read:before",
  "completion/complete": "completion/complete:before",
};
const AFTER: Partial<Record<RoutedMethod, AfterHook>> = {
  "tools/call": "tools/call:after",
  "prompts/get": "prompts/get:after",
  "resources/read": "resources/read:after",
  "completion/complete": "completion/complete:after",
  "tools/list": "tools/list:after",
  "prompts/list": "prompts/list:after",
  "resources/list": "resources/list:after",
  "resources/templates/list": "resources/templates/list:after",
};

/**
 * Pure dispatch by method: lists are answered from the catalog, everything else goes to exactly one
 * upstream under its original name. Knows nothing about eras or transports.
 */
export class Router {
  readonly #deps: RouterDeps;
  readonly #lists = new WeakMap<Catalog, Record<ListMethod, { entries: Listed[]; items: Result[] }>>();
  /** Spent `u`-state nonces → expiry (insertion order is expiry order). */
  readonly #spent = new Map<string, number>();

  constructor(deps: RouterDeps) {
    this.#deps = deps;
  }

  /**
   * The one entry for every routed method: plugin `before` hooks (generic, then specific), the route itself,
   * then `after` hooks on the final result (not on an intermediate `input_required`). A failure (route, upstream,
   * or a hook that throws or blocks) is reported to `mcp:error` before it propagates: later after hooks never run,
   * so that is how plugins see outcomes. No plugin hooking into calls, no overhead.
   */
  async dispatch(method: RoutedMethod, params: Params, ctx: CallContext): Promise<Result> {
    const observe = this.#deps.observe;
    if (!observe || !OBSERVED.has(method)) return this.#dispatch(method, params, ctx);
    const name = String((method === "resources/read" ? params.uri : params.name) ?? "");
    const start = performance.now();
    try {
      const result = await this.#dispatch(method, params, ctx);
      if (result.resultType !== "input_required") observe(method, name, performance.now() - start, result.isError !== true);
      return result;
    } catch (error) {
      observe(method, name, performance.now() - start, false);
      throw error;
    }
  }

  async #dispatch(method: RoutedMethod, params: Params, ctx: CallContext): Promise<Result> {
    const plugins = this.#deps.plugins();
    if (!plugins.observesCalls) return this.#route(method, params, ctx);
    const hookCtx = this.#hookContext(method, params, ctx);
    try {
      params = (await plugins.run("mcp:before", { params }, hookCtx)).params;
      const before = BEFORE[method];
      if (before) params = (await plugins.run(before, { params }, hookCtx)).params;
      let result = await this.#route(method, params, ctx);
      if (result.resultType === "input_required") {
        if (plugins.has("mcp:input_required")) plugins.notify("mcp:input_required", result, hookCtx);
        return result;
      }
      const after = AFTER[method];
      if (after) result = (await plugins.run(after, { result }, hookCtx)).result;
      return (await plugins.run("mcp:after", { result }, hookCtx)).result;
    } catch (error) {
      if (plugins.has("mcp:error")) {
        const { code, message } = toProtocolError(error);
        plugins.notify("mcp:error", { code, message }, hookCtx);
      }
      throw error;
    }
  }

  #route(method: RoutedMethod, params: Params, ctx: CallContext): Promise<Result> {
    switch (method) {
      case "tools/call":
        return this.#callTool(params, ctx);
      case "prompts/get":
        return this.#getPrompt(params, ctx);
      case "resources/read":
        return this.#readResource(params, ctx);
      case "resources/subscribe":
      case "resources/unsubscribe":
        return this.#subscribe(method, params, ctx);
      case "completion/complete":
        return this.#complete(params, ctx);
      case "logging/setLevel":
        return this.#setLogLevel(params, ctx);
      default:
        return Promise.resolve(this.#list(method, params, ctx));
    }
  }

  #hookContext(method: RoutedMethod, params: Params, ctx: CallContext): HookContext {
    const catalog = this.#catalog(ctx);
    let name: string | undefined;
    let upstream: string | undefined;
    if (method === "tools/call" || method === "prompts/get") {
      name = String(params.name ?? "");
      upstream = (method === "tools/call" ? catalog.tools : catalog.prompts).get(name)?.upstream;
    } else if (method === "resources/read" || method === "resources/subscribe" || method === "resources/unsubscribe") {
      name = String(params.uri ?? "");
      upstream = resolveResourceUpstream(catalog, name);
    } else if (method === "completion/complete") {
      const ref = (params.ref ?? {}) as Params;
      name = String(ref.name ?? ref.uri ?? "");
      upstream = ref.type === "ref/prompt" ? catalog.prompts.get(name)?.upstream : resolveResourceUpstream(catalog, name);
    }
    return {
      method,
      name,
      upstream,
      server: ctx.server,
      sessionId: ctx.sessionId,
      identity: ctx.identity,
      signal: ctx.signal,
      log: this.#deps.log,
      state: new Map(),
      retry: ctx.requestState !== undefined,
      headers: ctx.headers,
    };
  }

  /** The catalog of the client's endpoint; a virtual server removed while a client is connected has none. */
  #catalog(ctx: CallContext): Catalog {
    const catalog = this.#deps.catalog(ctx.server);
    if (catalog) return catalog;
    throw new GatewayError("NOT_FOUND", `Server not found: ${ctx.server}`, { status: 404, rpcCode: JsonRpcCode.InvalidRequest });
  }

  /** Whether the policy lets this client use an entry; lists and calls ask the same question. */
  #allowed(ctx: CallContext, method: string, name: string | undefined, upstream: string | undefined): boolean {
    const policy = this.#deps.policy?.();
    return !policy || policy.decide(ctx.identity, { method, name, upstream, server: ctx.server }).allow;
  }

  #list(method: ListMethod, params: Params | undefined, ctx: CallContext): Result {
    const catalog = this.#catalog(ctx);
    let lists = this.#lists.get(catalog);
    if (!lists) {
      const listed = (entries: Listed[]) => ({ entries, items: entries.map((e) => e.item) });
      const named = (map: ReadonlyMap<string, { upstream: string; item: Result }>) =>
        listed([...map].map(([name, e]) => ({ name, upstream: e.upstream, item: e.item })));
      lists = {
        "tools/list": named(catalog.tools),
        "prompts/list": named(catalog.prompts),
        "resources/list": named(catalog.resources),
        "resources/templates/list": listed(catalog.templates.map((e) => ({ name: String(e.item.uriTemplate), upstream: e.upstream, item: e.item }))),
      };
      this.#lists.set(catalog, lists);
    }
    const list = lists[method];
    const visible = this.#deps.policy?.()
      ? list.entries.filter((e) => this.#allowed(ctx, USE_METHOD[method], e.name, e.upstream)).map((e) => e.item)
      : list.items;
    const { items, nextCursor } = paginate(visible, params?.cursor, this.#deps.pageSize);
    return { [LIST_KEYS[method]]: items, ...(nextCursor ? { nextCursor } : {}) };
  }

  #callTool(params: Params, ctx: CallContext): Promise<Result> {
    const name = String(params.name ?? "");
    const entry = this.#catalog(ctx).tools.get(name);
    // A denied tool is indistinguishable from a missing one.
    if (!entry || !this.#allowed(ctx, "tools/call", name, entry.upstream)) throw invalidParams(`Unknown tool: ${name}`);
    return this.#multiRound("tools/call", name, entry.upstream, { ...params, name: entry.original, ...withFixed("arguments", params, entry.fixed) }, ctx);
  }

  #getPrompt(params: Params, ctx: CallContext): Promise<Result> {
    const name = String(params.name ?? "");
    const entry = this.#catalog(ctx).prompts.get(name);
    if (!entry || !this.#allowed(ctx, "prompts/get", name, entry.upstream)) throw invalidParams(`Unknown prompt: ${name}`);
    return this.#multiRound("prompts/get", name, entry.upstream, { ...params, name: entry.original, ...withFixed("arguments", params, entry.fixed) }, ctx);
  }

  #readResource(params: Params, ctx: CallContext): Promise<Result> {
    const uri = String(params.uri ?? "");
    return this.#multiRound("resources/read", uri, this.#resourceUpstream(uri, ctx), params, ctx);
  }

  async #subscribe(method: "resources/subscribe" | "resources/unsubscribe", params: Params, ctx: CallContext): Promise<Result> {
    const uri = String(params.uri ?? "");
    const upstream = this.#resourceUpstream(uri, ctx);
    if (method === "resources/subscribe") {
      ctx.subscriptions?.add(uri);
    } else {
      ctx.subscriptions?.delete(uri);
      if (this.#deps.isSubscribedElsewhere(uri, ctx.sessionId)) return {};
    }
    return this.#upstream(upstream).request({ method, params }, { signal: ctx.signal, identity: ctx.identity });
  }

  async #complete(params: Params, ctx: CallContext): Promise<Result> {
    const ref = (params.ref ?? {}) as Params;
    let upstream: string;
    let forwardedRef = ref;
    if (ref.type === "ref/prompt") {
      const entry = this.#catalog(ctx).prompts.get(String(ref.name ?? ""));
      if (!entry || !this.#allowed(ctx, "prompts/get", String(ref.name), entry.upstream)) throw invalidParams(`Unknown prompt: ${String(ref.name)}`);
      upstream = entry.upstream;
      forwardedRef = { ...ref, name: entry.original };
    } else if (ref.type === "ref/resource") {
      upstream = this.#resourceUpstream(String(ref.uri ?? ""), ctx);
    } else {
      throw invalidParams("completion/complete needs a ref of type ref/prompt or ref/resource");
    }
    return this.#upstream(upstream).request({ method: "completion/complete", params: { ...params, ref: forwardedRef } }, { signal: ctx.signal, identity: ctx.identity });
  }

  /**
   * Applies to every upstream behind the client's endpoint that supports logging; one failing upstream does not
   * fail the call. Upstream log levels are shared, so the policy decides who may change them.
   */
  async #setLogLevel(params: Params, ctx: CallContext): Promise<Result> {
    if (!this.#allowed(ctx, "logging/setLevel", undefined, undefined)) {
      throw new GatewayError("FORBIDDEN", "Not allowed: logging/setLevel", { status: 403, rpcCode: JsonRpcCode.InvalidRequest });
    }
    const catalog = this.#catalog(ctx);
    const behind = new Set([...catalog.tools.values(), ...catalog.prompts.values(), ...catalog.resources.values(), ...catalog.templates].map((e) => e.upstream));
    const targets = [...this.#deps.upstreams().values()].filter((u) => u.capabilities()?.logging && (ctx.server === undefined || behind.has(u.name)));
    await Promise.allSettled(targets.map((u) => u.request({ method: "logging/setLevel", params }, { signal: ctx.signal })));
    return {};
  }

  #resourceUpstream(uri: string, ctx: CallContext): string {
    const upstream = resolveResourceUpstream(this.#catalog(ctx), uri);
    if (upstream && this.#allowed(ctx, "resources/read", uri, upstream)) return upstream;
    throw new GatewayError("NOT_FOUND", `Resource not found: ${uri}`, {
      status: 404,
      rpcCode: JsonRpcCode.ResourceNotFound,
      data: { uri },
    });
  }

  #upstream(name: string): Upstream {
    const upstream = this.#deps.upstreams().get(name);
    if (!upstream) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", `Upstream "${name}" is not available`, {
        status: 503,
        rpcCode: JsonRpcCode.UpstreamError,
      });
    }
    return upstream;
  }

  /**
   * tools/call, prompts/get and resources/read may need client input mid-call. Input an upstream asks for
   * (a server→client request, or a 2026-07-28 `input_required` result) is returned to the client as
   * `input_required`; the retried request carries the answers and the gateway-signed state back.
   */
  async #multiRound(method: string, key: string, upstreamName: string, params: Params, ctx: CallContext): Promise<Result> {
    const binding = `${method}\u0000${key}`;
    const state = ctx.requestState;
    if (state && state.b !== binding) throw invalidParams("requestState does not belong to this request");
    const upstream = this.#upstream(state?.u?.upstream ?? upstreamName);
    // The caller's identity goes along (for identity forwarding and local tools); its credentials never do.
    const options: UpstreamRequestOptions = { allowInputRequired: true, identity: ctx.identity };
    const forward = { ...params };
    delete forward.inputResponses;
    delete forward.requestState;

    if (state?.u) {
      this.#spend(state.n);
      const retried = { ...forward, inputResponses: ctx.inputResponses ?? {}, ...(state.u.state ? { requestState: state.u.state } : {}) };
      const result = await upstream.request({ method, params: retried }, { ...options, signal: ctx.signal, onProgress: ctx.progress });
      return this.#wrapUpstreamInput(result, upstream.name, binding, ctx);
    }

    const outcome = state?.f
      ? await this.#deps.flows.resume(state.f, binding, ctx.inputResponses, ctx.progress, ctx.signal)
      : await this.#deps.flows.start(ctx.sessionId, binding, ctx.progress, ctx.signal, (caller, signal, onProgress) =>
          upstream.request({ method, params: forward }, { ...options, caller, signal, onProgress: ctx.progress ? onProgress : undefined }),
        );
    if ("result" in outcome) return this.#wrapUpstreamInput(outcome.result, upstream.name, binding, ctx);
    return {
      resultType: "input_required",
      inputRequests: outcome.inputRequests,
      requestState: await ctx.mintState({ b: binding, f: outcome.state }),
    };
  }

  /** Mark a state nonce used; a second use within the state's lifetime is refused. */
  #spend(nonce: string | undefined): void {
    const now = Date.now();
    for (const [key, expiry] of this.#spent) {
      if (expiry > now) break;
      this.#spent.delete(key);
    }
    if (!nonce || this.#spent.has(nonce)) throw invalidParams("requestState was already used");
    this.#spent.set(nonce, now + STATE_TTL_MS);
  }

  async #wrapUpstreamInput(result: Result, upstream: string, binding: string, ctx: CallContext): Promise<Result> {
    if (result.resultType !== "input_required") return result;
    const state = typeof result.requestState === "string" ? result.requestState : undefined;
    return {
      ...result,
      requestState: await ctx.mintState({ b: binding, u: { upstream, ...(state ? { state } : {}) }, n: randomUUID() }),
    };
  }
}

/** `{ arguments }` with a virtual server's fixed values over the client's (which cannot override them). */
function withFixed(key: "arguments", params: Params, fixed: Readonly<Record<string, unknown>> | undefined): Params {
  if (!fixed) return {};
  return { [key]: { ...(params[key] as Params | undefined), ...fixed } };
}

function invalidParams(message: string): GatewayError {
  return new GatewayError("BAD_REQUEST", message, { status: 400, rpcCode: JsonRpcCode.InvalidParams });
}
