import type { Logger } from "../_utils/logger.ts";

type Json = Record<string, unknown>;

/** Who and what a hook call is about. Read-only for plugins. */
export interface HookContext {
  /** MCP method, e.g. `tools/call`. */
  readonly method: string;
  /** Exposed entry name (tool/prompt) or resource URI, when the method addresses one. */
  readonly name?: string;
  /** Upstream that serves the entry, once known. */
  readonly upstream?: string;
  /** Virtual server the client is connected to, if any. */
  readonly server?: string;
  /** Client session id (2025-era) or per-request id (2026-07-28). */
  readonly sessionId: string;
  /** Authenticated identity, when the route has auth. */
  readonly identity?: { readonly subject: string; readonly claims?: Readonly<Json> };
  /** Aborted when the client cancels. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Scratch space shared by the before and after hooks of one call (e.g. a start time). */
  readonly state: Map<string, unknown>;
  /** True on a retried round of a multi-round-trip call (the client answering `input_required`). */
  readonly retry: boolean;
  /** Headers of the client's HTTP request, when it came over HTTP (e.g. `traceparent`). */
  readonly headers?: Headers;
}

/** What a hook returns: nothing (pass), a replacement payload, or a block with a reason the client sees. */
export type HookResult<P> = void | undefined | { payload: P } | { block: string | { message: string; code?: number; data?: Json } };

export type Hook<P> = (payload: P, ctx: HookContext) => HookResult<P> | Promise<HookResult<P>>;

/** Payloads per hook point. `params`/`result` are the MCP objects; only what the hook returns is used. */
export interface HookPayloads {
  /** Every MCP request, before anything else (generic: no method bypasses it). */
  "mcp:before": { params: Json };
  /** Every MCP result, after the specific hooks. */
  "mcp:after": { result: Json };
  "tools/call:before": { params: Json };
  "tools/call:after": { result: Json };
  "prompts/get:before": { params: Json };
  "prompts/get:after": { result: Json };
  "resources/read:before": { params: Json };
  "resources/read:after": { result: Json };
  "completion/complete:before": { params: Json };
  "completion/complete:after": { result: Json };
  "tools/list:after": { result: Json };
  "prompts/list:after": { result: Json };
  "resources/list:after": { result: Json };
  "resources/templates/list:after": { result: Json };
}

export type HookName = keyof HookPayloads;

/** The JSON-RPC error a failed call ends with, as the client sees it (safe message, no stack). */
export interface CallError {
  message: string;
  code: number;
}

/** Raw HTTP request hook: return a `Response` to answer it yourself (e.g. 429), or nothing to pass. */
export type RequestHook = (request: Request, ctx: { log: Logger }) => Response | void | undefined | Promise<Response | void | undefined>;

export interface SessionEvent {
  id: string;
  era: "legacy" | "modern";
}

/** Which calls a plugin sees. Every listed condition must match; globs use `*`. */
export interface PluginConditions {
  upstreams?: string[];
  servers?: string[];
  /** Exposed entry names or resource URIs. */
  names?: string[];
  /** Identity subjects. */
  identities?: string[];
}

/** Setup context: the plugin's one chance to allocate resources (closed again in `teardown`). */
export interface PluginSetupContext {
  log: Logger;
}

/** A plugin as users write it: a plain object. See {@link definePlugin}. */
export interface GatewayPlugin {
  name: string;
  /** Lower runs first (default 100). Ties keep config order. */
  priority?: number;
  /** `enforce` (default) applies blocks and changes; `permissive` only logs what it would have blocked; `off` skips it. */
  mode?: "enforce" | "permissive" | "off";
  /** Per-hook time budget in ms (default 5000). */
  timeout?: number;
  /** A hook that throws or times out: `fail-closed` (default) rejects the call, `fail-open` lets it through. */
  onError?: "fail-closed" | "fail-open";
  when?: PluginConditions;
  setup?: (ctx: PluginSetupContext) => void | Promise<void>;
  hooks?: { [K in HookName]?: Hook<HookPayloads[K]> } & {
    "request:before"?: RequestHook;
    "session:start"?: (session: SessionEvent) => void | Promise<void>;
    "session:end"?: (session: SessionEvent) => void | Promise<void>;
    /** Notification, cannot change anything: the call failed (route, upstream, or a hook threw or blocked). */
    "mcp:error"?: (error: CallError, ctx: HookContext) => void | Promise<void>;
    /** Notification: the call paused for client input; `after` hooks only ever see the final result. */
    "mcp:input_required"?: (result: Json, ctx: HookContext) => void | Promise<void>;
  };
  teardown?: () => void | Promise<void>;
}

/** Identity helper that gives plugin objects full type inference. */
export function definePlugin(plugin: GatewayPlugin): GatewayPlugin {
  return plugin;
}
