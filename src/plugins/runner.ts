import { GatewayError, JsonRpcCode } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import { globToRegExp } from "../_utils/glob.ts";
import type { Logger } from "../_utils/logger.ts";
import type { CallError, GatewayPlugin, HookContext, HookName, HookPayloads, HookResult, SessionEvent } from "./types.ts";

const DEFAULT_TIMEOUT = 5000;
const DEFAULT_PRIORITY = 100;
/** Hooks that see nothing of a routed call: a plugin with only these leaves the router's fast path on. */
const NON_CALL_HOOKS = new Set(["request:before", "session:start", "session:end"]);

/** Outcome notifications and what they carry. */
interface CallNotifications {
  "mcp:error": CallError;
  "mcp:input_required": Record<string, unknown>;
}

interface Prepared {
  plugin: GatewayPlugin;
  matches: (ctx: HookContext) => boolean;
}

/**
 * Runs plugin hooks in priority order with each plugin's mode, timeout, error policy and conditions.
 * A plugin can change a payload or block the call; it can never crash the gateway.
 */
export class PluginRunner {
  readonly #plugins: Prepared[];
  readonly #byHook = new Map<string, Prepared[]>();
  readonly #log: Logger;
  /** Whether any plugin hooks into routed calls (otherwise the router skips the pipeline). */
  readonly observesCalls: boolean;

  private constructor(plugins: readonly GatewayPlugin[], log: Logger) {
    this.#log = log;
    this.#plugins = plugins
      .map((plugin, index) => ({ plugin, index }))
      .filter(({ plugin }) => plugin.mode !== "off")
      .sort((a, b) => (a.plugin.priority ?? DEFAULT_PRIORITY) - (b.plugin.priority ?? DEFAULT_PRIORITY) || a.index - b.index)
      .map(({ plugin }) => ({ plugin, matches: compileConditions(plugin) }));
    for (const prepared of this.#plugins) {
      for (const hook of Object.keys(prepared.plugin.hooks ?? {})) {
        const list = this.#byHook.get(hook) ?? [];
        list.push(prepared);
        this.#byHook.set(hook, list);
      }
    }
    this.observesCalls = [...this.#byHook.keys()].some((hook) => !NON_CALL_HOOKS.has(hook));
  }

  /**
   * Run every plugin's `setup`; a failing setup is a start-up error naming the plugin. On reload, pass the
   * `previous` runner: plugin objects it already set up (the same object kept across the reload) are not set up twice.
   */
  static async create(plugins: readonly GatewayPlugin[], log: Logger, previous?: PluginRunner): Promise<PluginRunner> {
    const runner = new PluginRunner(plugins, log);
    for (const { plugin } of runner.#plugins) {
      if (previous && previous.#owns(plugin)) continue;
      try {
        await plugin.setup?.({ log: log.withTag(`plugin:${plugin.name}`) });
      } catch (error) {
        await runner.close();
        throw new GatewayError("INTERNAL", `Plugin "${plugin.name}" failed to set up: ${describeError(error)}`, { cause: error });
      }
    }
    return runner;
  }

  /** Whether any plugin listens on `hook` (lets the hot path skip building a context). */
  has(hook: HookName | "request:before" | keyof CallNotifications): boolean {
    return this.#byHook.has(hook);
  }

  get size(): number {
    return this.#plugins.length;
  }

  /** Run `hook` over `payload`; resolves with the (possibly replaced) payload or throws a blocking GatewayError. */
  async run<K extends HookName>(hook: K, payload: HookPayloads[K], ctx: HookContext): Promise<HookPayloads[K]> {
    const plugins = this.#byHook.get(hook);
    if (!plugins) return payload;
    let current = payload;
    for (const { plugin, matches } of plugins) {
      if (!matches(ctx)) continue;
      const outcome = await this.#invoke(plugin, hook, () => plugin.hooks![hook]!(current as never, ctx) as HookResult<HookPayloads[K]>);
      if (!outcome) continue;
      if ("block" in outcome) {
        const reason = typeof outcome.block === "string" ? { message: outcome.block } : outcome.block;
        if (plugin.mode === "permissive") {
          this.#log.warn(`plugin "${plugin.name}" would block ${ctx.method}${ctx.name ? ` ${ctx.name}` : ""}: ${reason.message}`);
          continue;
        }
        throw new GatewayError("FORBIDDEN", reason.message, {
          status: 403,
          rpcCode: reason.code ?? JsonRpcCode.Blocked,
          data: { plugin: plugin.name, ...reason.data },
        });
      }
      if ("payload" in outcome) {
        if (plugin.mode === "permissive") {
          this.#log.info(`plugin "${plugin.name}" would change the ${hook} payload of ${ctx.name ?? ctx.method}`);
          continue;
        }
        current = outcome.payload;
      }
    }
    return current;
  }

  /** `request:before`: the first plugin that answers with a Response wins. */
  async request(request: Request): Promise<Response | undefined> {
    for (const { plugin } of this.#byHook.get("request:before") ?? []) {
      const response = await this.#invoke(plugin, "request:before", () => plugin.hooks!["request:before"]!(request, { log: this.#log }));
      if (response instanceof Response) {
        if (plugin.mode === "permissive") {
          this.#log.warn(`plugin "${plugin.name}" would answer ${request.method} ${new URL(request.url).pathname} with ${response.status}`);
          continue;
        }
        return response;
      }
    }
    return undefined;
  }

  /** Session lifecycle notifications: fire and forget, failures are logged. */
  session(kind: "session:start" | "session:end", event: SessionEvent): void {
    for (const { plugin } of this.#byHook.get(kind) ?? []) {
      void this.#invoke(plugin, kind, () => plugin.hooks![kind]!(event)).catch(() => {});
    }
  }

  /** Call outcome notifications (`mcp:error`, `mcp:input_required`): not awaited, never block, never throw. */
  notify<K extends keyof CallNotifications>(hook: K, payload: CallNotifications[K], ctx: HookContext): void {
    for (const { plugin, matches } of this.#byHook.get(hook) ?? []) {
      if (!matches(ctx)) continue;
      void this.#invoke(plugin, hook, () => plugin.hooks![hook]!(payload as never, ctx)).catch(() => {});
    }
  }

  /** Tear plugins down in reverse order; objects that the `successor` runner still uses are left alone. */
  async close(successor?: PluginRunner): Promise<void> {
    for (const { plugin } of [...this.#plugins].reverse()) {
      if (successor && successor.#owns(plugin)) continue;
      try {
        await plugin.teardown?.();
      } catch (error) {
        this.#log.warn(`plugin "${plugin.name}" teardown failed: ${describeError(error)}`);
      }
    }
  }

  #owns(plugin: GatewayPlugin): boolean {
    return this.#plugins.some((p) => p.plugin === plugin);
  }

  /** Run one hook under the plugin's time budget and error policy. `undefined` = let the call through. */
  async #invoke<T>(plugin: GatewayPlugin, hook: string, run: () => T | Promise<T>): Promise<T | undefined> {
    const timeout = plugin.timeout ?? DEFAULT_TIMEOUT;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        Promise.resolve().then(run),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (error) {
      this.#log.error(`plugin "${plugin.name}" ${hook} failed: ${describeError(error)}`);
      if (plugin.onError === "fail-open" || plugin.mode === "permissive") return undefined;
      throw new GatewayError("INTERNAL", `Request rejected: plugin "${plugin.name}" failed`, {
        status: 500,
        rpcCode: JsonRpcCode.InternalError,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

function compileConditions(plugin: GatewayPlugin): (ctx: HookContext) => boolean {
  const when = plugin.when;
  if (!when) return () => true;
  const test = (patterns: string[] | undefined) => {
    if (!patterns) return () => true;
    const regexps = patterns.map(globToRegExp);
    return (value: string | undefined) => value !== undefined && regexps.some((r) => r.test(value));
  };
  const upstream = test(when.upstreams);
  const server = test(when.servers);
  const name = test(when.names);
  const identity = test(when.identities);
  return (ctx) => upstream(ctx.upstream) && server(ctx.server) && name(ctx.name) && identity(ctx.identity?.subject);
}
