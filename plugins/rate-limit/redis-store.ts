import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import type { RateLimitAlgorithm, RateLimitStore } from "./types.ts";

export interface RedisStoreOptions {
  /** Budget per call in ms (default 500). Past it the call fails and the plugin's `onError` decides. */
  timeout?: number;
  /**
   * Whose clock counts: `"redis"` (default) reads `TIME` inside the script, so gateway instances with skewed
   * clocks share one limit; `"caller"` uses `request.now` (deterministic tests, or clocks you trust).
   */
  clock?: "redis" | "caller";
}

// Both scripts mirror `algorithms.ts` step for step (same integer arithmetic, same results).
// KEYS[1] = key; ARGV = cost, limit, windowMs, now ("" = use Redis TIME).
const PREAMBLE = `
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%.0f', n) end
`;

const TOKEN_BUCKET = `${PREAMBLE}
local capacity = limit * window
local need = cost * window
local state = redis.call('HMGET', key, 'level', 'at')
local level = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then
  level = math.min(capacity, level + (now - at) * limit)
  at = now
end
local allowed, retry = 0, 0
if level >= need then
  level = level - need
  allowed = 1
else
  retry = math.ceil((need - level) / limit)
end
redis.call('HSET', key, 'level', int(level), 'at', int(at))
redis.call('PEXPIRE', key, int(math.max(1, math.ceil((capacity - level) / limit))))
return { allowed, math.floor(level / window), retry }
`;

// The log is a list of timestamps, oldest first (a list, unlike a sorted set, keeps equal stamps apart).
const SLIDING_WINDOW = `${PREAMBLE}
while true do
  local head = tonumber(redis.call('LINDEX', key, 0))
  if not head or head > now - window then break end
  redis.call('LPOP', key)
end
local count = redis.call('LLEN', key)
local allowed, retry = 0, 0
if count + cost <= limit then
  local at = now
  local newest = tonumber(redis.call('LINDEX', key, -1))
  if newest and newest > at then at = newest end
  for i = 1, cost do redis.call('RPUSH', key, int(at)) end
  count = count + cost
  allowed = 1
else
  local blocking = tonumber(redis.call('LINDEX', key, count + cost - limit - 1))
  if blocking then retry = math.max(1, blocking + window - now) else retry = window end
end
local newest = tonumber(redis.call('LINDEX', key, -1))
if newest then redis.call('PEXPIRE', key, int(math.max(1, newest + window - now))) end
return { allowed, math.max(0, limit - count), retry }
`;

interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash("sha1").update(source).digest("hex") });
const SCRIPTS: Record<RateLimitAlgorithm, Script> = {
  "token-bucket": script(TOKEN_BUCKET),
  "sliding-window": script(SLIDING_WINDOW),
};

/**
 * A {@link RateLimitStore} in Redis, shared by every gateway instance that uses the same keys. Each `take` is one
 * Lua script (atomic; EVALSHA, falling back to EVAL after a script flush); every key expires once its state no
 * longer matters. Pass a URL to let the store own its connection (opened on first use, closed with the plugin), or
 * your own ioredis client (never closed here).
 */
export function redisStore(redis: Redis | string, options: RedisStoreOptions = {}): RateLimitStore {
  const timeout = options.timeout ?? 500;
  const callerClock = options.clock === "caller";
  const url = typeof redis === "string" ? redis : undefined;
  let client = typeof redis === "string" ? undefined : redis;
  let lastError: string | undefined;

  function connection(): Redis {
    if (client) return client;
    // Short per-command timeout and one retry: while Redis is down, calls fail fast instead of queueing.
    const created = new Redis(url!, { lazyConnect: true, commandTimeout: timeout, maxRetriesPerRequest: 1 });
    created.on("error", (error: unknown) => (lastError = describe(error)));
    created.on("ready", () => (lastError = undefined));
    return (client = created);
  }

  return {
    name: "redis",
    async take(request) {
      const redis = connection();
      const args = [request.cost, request.limit, request.windowMs, callerClock ? request.now : ""];
      let reply: unknown;
      try {
        reply = await withTimeout(evalScript(redis, SCRIPTS[request.algorithm], request.key, args), timeout);
      } catch (error) {
        // Never the URL: it may carry a password.
        const reason = redis.status === "ready" ? `Redis error: ${describe(error)}` : `Redis unavailable (${lastError ?? describe(error)})`;
        throw new Error(`rate-limit store: ${reason}`, { cause: error });
      }
      const [allowed, remaining, retryAfterMs] = reply as [number, number, number];
      return { allowed: allowed === 1, remaining, retryAfterMs };
    },
    close() {
      if (!url || !client) return;
      client.disconnect();
      client = undefined;
    },
  };
}

async function evalScript(redis: Redis, { sha, source }: Script, key: string, args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, 1, key, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(source, 1, key, ...args);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timedOut]).finally(() => clearTimeout(timer));
}

/** First line of an error; a connection AggregateError (IPv4 + IPv6 attempts) has an empty message, so use its parts. */
function describe(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(describe).join("; ");
  if (error instanceof Error) return (error.message || (error as NodeJS.ErrnoException).code || error.name).split("\n")[0]!;
  return String(error);
}
