/**
 * `rate-limit`: caps how often MCP calls may be made, per identity, session, tool, upstream or server, in one
 * process (memory store) or across gateway instances (Redis store). A call over the limit gets JSON-RPC error
 * {@link RATE_LIMITED} with `data: { retryAfter, retryAfterMs, limit, windowMs, key }`.
 */
import { definePlugin, GatewayError, type GatewayPlugin } from "../../src/index.ts";
import { compileKey, type RateLimitKey } from "./key.ts";
import { memoryStore } from "./memory-store.ts";
import type { RateLimitAlgorithm, RateLimitStore } from "./types.ts";

export { memoryStore, type MemoryStore, type MemoryStoreOptions } from "./memory-store.ts";
export { redisStore, type RedisStoreOptions } from "./redis-store.ts";
export type { RateLimitKey, RateLimitKeyPart } from "./key.ts";
export type { RateLimitAlgorithm, RateLimitRequest, RateLimitResult, RateLimitStore } from "./types.ts";

/**
 * JSON-RPC code of a call rejected for exceeding its rate limit: in the implementation-defined server error range
 * (-32000 to -32099), and ending in 29 like HTTP 429 Too Many Requests.
 */
export const RATE_LIMITED = -32029;

export interface RateLimitOptions extends Pick<GatewayPlugin, "priority" | "mode" | "when" | "onError" | "timeout"> {
  /** Calls allowed per window (token bucket: the burst capacity). Positive integer. */
  limit: number;
  /** Window length in ms (token bucket: the time to refill `limit`). Positive integer. */
  windowMs: number;
  /** Default `token-bucket`. */
  algorithm?: RateLimitAlgorithm;
  /** What the limit is counted per. Default `identity` (the session when anonymous). */
  key?: RateLimitKey;
  /** MCP methods that are charged. Default `["tools/call"]`. */
  methods?: string[];
  /** Default: a fresh {@link memoryStore} (one process; reset when the plugin is rebuilt). */
  store?: RateLimitStore;
  /** Prepended to every store key. Default `mcpgw:rl:`. */
  prefix?: string;
}

/** Build a `rate-limit` plugin. Throws a `CONFIG_INVALID` GatewayError on bad options. */
export function rateLimit(options: RateLimitOptions): GatewayPlugin {
  const { limit, windowMs, algorithm = "token-bucket", prefix = "mcpgw:rl:" } = options;
  for (const [field, value] of Object.entries({ limit, windowMs })) {
    if (!Number.isSafeInteger(value) || value < 1) invalid(`${field} must be a positive integer, got ${value}`);
  }
  // The algorithms count in 1/windowMs units: keep that exact in doubles (and in Redis Lua).
  if (limit * windowMs > Number.MAX_SAFE_INTEGER) invalid(`limit × windowMs must stay below 2^53, got ${limit} × ${windowMs}`);
  if (algorithm !== "token-bucket" && algorithm !== "sliding-window") invalid(`unknown algorithm ${JSON.stringify(algorithm)}`);
  let resolveKey: ReturnType<typeof compileKey>;
  try {
    resolveKey = compileKey(options.key ?? "identity");
  } catch (error) {
    invalid((error as Error).message);
  }
  const store = options.store ?? memoryStore();
  const methods = new Set(options.methods ?? ["tools/call"]);
  // Limit and window are part of the key: two limits on the same key (a burst and a daily cap) never share state.
  const namespace = `${prefix}${algorithm === "token-bucket" ? "tb" : "sw"}:${limit}:${windowMs}:`;

  return definePlugin({
    name: "rate-limit",
    priority: options.priority,
    mode: options.mode,
    when: options.when,
    onError: options.onError,
    timeout: options.timeout,
    hooks: {
      "mcp:before": async (_payload, ctx) => {
        // A retried round (the client answering input_required) continues a call already charged on its first round.
        if (ctx.retry || !methods.has(ctx.method)) return;
        const { kind, id } = resolveKey(ctx);
        const { allowed, retryAfterMs } = await store.take({ key: `${namespace}${kind}:${id}`, algorithm, cost: 1, limit, windowMs, now: Date.now() });
        if (allowed) return;
        return {
          block: {
            message: "Rate limit exceeded",
            code: RATE_LIMITED,
            data: { retryAfter: Math.ceil(retryAfterMs / 1000), retryAfterMs, limit, windowMs, key: kind },
          },
        };
      },
    },
    teardown: () => store.close?.(),
  });
}

function invalid(message: string): never {
  throw new GatewayError("CONFIG_INVALID", `rate-limit: ${message}`);
}
