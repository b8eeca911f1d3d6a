/** `token-bucket`: bursts up to `limit`, refilled continuously at `limit` per `windowMs`. `sliding-window`: at most `limit` in any `windowMs`. */
export type RateLimitAlgorithm = "token-bucket" | "sliding-window";

/** One charge against a key. */
export interface RateLimitRequest {
  /** Opaque, already namespaced key (the plugin builds it; stores use it verbatim). */
  key: string;
  algorithm: RateLimitAlgorithm;
  /** Units to take, 1 ≤ cost ≤ limit. */
  cost: number;
  /** Positive integer. */
  limit: number;
  /** Positive integer, in ms. */
  windowMs: number;
  /** Caller's clock in ms; stores that keep a shared clock (Redis) ignore it by default. */
  now: number;
}

export interface RateLimitResult {
  allowed: boolean;
  /** Whole units left after this request. */
  remaining: number;
  /** When denied: ms until the same request would be allowed (≥ 1). 0 when allowed. */
  retryAfterMs: number;
}

/** Where rate-limit state lives. `take` charges atomically: two concurrent calls never both spend the last unit. */
export interface RateLimitStore {
  readonly name: string;
  take(request: RateLimitRequest): Promise<RateLimitResult>;
  /** Release connections the store opened itself (called on plugin teardown). A closed store reopens on next use. */
  close?(): void | Promise<void>;
}
