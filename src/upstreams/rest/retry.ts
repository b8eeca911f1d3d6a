import { backoffDelay } from "../../_utils/backoff.ts";

/** Retry policy of one REST tool, defaults applied. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  readonly retries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** What one attempt ended with, as far as retrying is concerned. */
export type AttemptOutcome = { kind: "network" } | { kind: "status"; status: number; retryAfter?: string | null };

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** Longest `Retry-After` honoured; a longer one ends the retries instead of parking the call. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** RFC 9110 idempotent methods; other methods are retried only when the tool says it is idempotent. */
export function isIdempotent(method: string, markedIdempotent = false): boolean {
  return markedIdempotent || IDEMPOTENT.has(method.toUpperCase());
}

/** Connect errors, 408, 429 and 5xx (but not 501 Not Implemented) are worth another attempt. */
export function isRetryable(outcome: AttemptOutcome): boolean {
  if (outcome.kind === "network") return true;
  return outcome.status === 408 || outcome.status === 429 || (outcome.status >= 500 && outcome.status !== 501);
}

/** `Retry-After` (delta seconds or HTTP date) in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The delay before retry number `attempt` (0-based), or `undefined` when the call must not be retried:
 * attempts used up, a non-idempotent call, an outcome that is not transient, or a `Retry-After` beyond
 * {@link MAX_RETRY_AFTER_MS}. A server's `Retry-After` wins over the exponential backoff with jitter.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  outcome: AttemptOutcome,
  idempotent: boolean,
  random: () => number = Math.random,
  now = Date.now(),
): number | undefined {
  if (attempt >= policy.retries || !idempotent || !isRetryable(outcome)) return undefined;
  const retryAfter = outcome.kind === "status" ? parseRetryAfter(outcome.retryAfter, now) : undefined;
  if (retryAfter !== undefined) return retryAfter <= MAX_RETRY_AFTER_MS ? retryAfter : undefined;
  return backoffDelay(attempt, policy.initialDelayMs, policy.maxDelayMs, random);
}
