/**
 * The two algorithms as pure functions over plain state, in integer arithmetic so that results are exact and the
 * Lua version in `redis-store.ts` can mirror them line by line.
 */
import type { RateLimitRequest, RateLimitResult } from "./types.ts";

type Step = Omit<RateLimitRequest, "key" | "algorithm">;

/** Token bucket state: `level` in 1/windowMs units (so refill is `limit` units per ms, an integer), as of `at`. */
export interface BucketState {
  level: number;
  at: number;
}

export interface Outcome<S> {
  state: S;
  result: RateLimitResult;
  /** How long the state matters: after this many ms it is equivalent to no state at all. */
  ttlMs: number;
}

/** Charge a token bucket of capacity `limit` that refills `limit` tokens per `windowMs`. */
export function takeToken(previous: BucketState | undefined, { cost, limit, windowMs, now }: Step): Outcome<BucketState> {
  const capacity = limit * windowMs;
  const need = cost * windowMs;
  let level = previous?.level ?? capacity;
  let at = previous?.at ?? now;
  // A clock that went backwards refills nothing; it never drains.
  if (now > at) {
    level = Math.min(capacity, level + (now - at) * limit);
    at = now;
  }
  let retryAfterMs = 0;
  const allowed = level >= need;
  if (allowed) level -= need;
  else retryAfterMs = Math.ceil((need - level) / limit);
  return {
    state: { level, at },
    result: { allowed, remaining: Math.floor(level / windowMs), retryAfterMs },
    ttlMs: Math.max(1, Math.ceil((capacity - level) / limit)),
  };
}

/**
 * Charge an exact sliding log: a request at `now` is allowed when fewer than `limit` units were taken in
 * `(now - windowMs, now]`. `stamps` is ascending and is updated in place (it holds at most `limit` entries).
 */
export function takeWindow(stamps: number[], { cost, limit, windowMs, now }: Step): Outcome<number[]> {
  let expired = 0;
  while (expired < stamps.length && stamps[expired]! <= now - windowMs) expired++;
  stamps.splice(0, expired);
  const count = stamps.length;
  let retryAfterMs = 0;
  const allowed = count + cost <= limit;
  if (allowed) {
    // Never stamp earlier than the newest entry, so the log stays sorted if the clock steps back.
    const at = Math.max(now, stamps[count - 1] ?? now);
    for (let i = 0; i < cost; i++) stamps.push(at);
  } else {
    // The request fits once the oldest `count + cost - limit` entries have left the window.
    const blocking = stamps[count + cost - limit - 1];
    retryAfterMs = blocking === undefined ? windowMs : Math.max(1, blocking + windowMs - now);
  }
  const newest = stamps[stamps.length - 1];
  return {
    state: stamps,
    result: { allowed, remaining: Math.max(0, limit - stamps.length), retryAfterMs },
    ttlMs: newest === undefined ? 1 : Math.max(1, newest + windowMs - now),
  };
}
