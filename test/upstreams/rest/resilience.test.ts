/** The resilience primitives on their own: retry decisions, Retry-After, token bucket, concurrency limiter, circuit breaker. */
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/upstreams/rest/circuit-breaker.ts";
import { ConcurrencyLimiter, TokenBucket } from "../../../src/upstreams/rest/limits.ts";
import { isIdempotent, parseRetryAfter, retryDelay, MAX_RETRY_AFTER_MS } from "../../../src/upstreams/rest/retry.ts";

const policy = { retries: 3, initialDelayMs: 100, maxDelayMs: 1000 };

describe("retryDelay", () => {
  it("retries connect errors, 408, 429 and 5xx of idempotent calls, with capped exponential backoff and jitter", () => {
    expect(retryDelay(policy, 0, { kind: "network" }, true, () => 0)).toBe(50);
    expect(retryDelay(policy, 0, { kind: "network" }, true, () => 1)).toBe(100);
    expect(retryDelay(policy, 2, { kind: "status", status: 503 }, true, () => 1)).toBe(400);
    expect(retryDelay({ ...policy, retries: 9 }, 8, { kind: "status", status: 502 }, true, () => 1)).toBe(1000);
    for (const status of [408, 429, 500, 502, 503, 504]) expect(retryDelay(policy, 0, { kind: "status", status }, true)).toBeGreaterThan(0);
  });

  it("does not retry client errors, 501, non-idempotent calls, or past the retry budget", () => {
    for (const status of [400, 401, 404, 409, 422, 501]) expect(retryDelay(policy, 0, { kind: "status", status }, true)).toBeUndefined();
    expect(retryDelay(policy, 0, { kind: "status", status: 503 }, false)).toBeUndefined();
    expect(retryDelay(policy, 3, { kind: "status", status: 503 }, true)).toBeUndefined();
  });

  it("honours Retry-After (seconds or HTTP date) over the backoff, and gives up when it is too far away", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryDelay(policy, 0, { kind: "status", status: 429, retryAfter: "2" }, true, () => 0, now)).toBe(2000);
    expect(retryDelay(policy, 0, { kind: "status", status: 503, retryAfter: "Thu, 01 Jan 2026 00:00:03 GMT" }, true, () => 0, now)).toBe(3000);
    expect(retryDelay(policy, 0, { kind: "status", status: 429, retryAfter: String(MAX_RETRY_AFTER_MS / 1000 + 1) }, true)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
  });

  it("treats GET, HEAD, OPTIONS, PUT and DELETE as idempotent, POST and PATCH only when marked", () => {
    for (const m of ["GET", "head", "OPTIONS", "PUT", "DELETE"]) expect(isIdempotent(m)).toBe(true);
    expect(isIdempotent("POST")).toBe(false);
    expect(isIdempotent("PATCH")).toBe(false);
    expect(isIdempotent("POST", true)).toBe(true);
  });
});

describe("TokenBucket", () => {
  it("lets a burst through, then spaces callers by the refill rate (reserved in order)", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
    now = 1000;
    expect(bucket.tokens).toBe(2);
  });

  it("gives the token back when a waiting caller aborts", async () => {
    const bucket = new TokenBucket(1, 1);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(bucket.tokens).toBeGreaterThan(-0.5);
  });
});

describe("ConcurrencyLimiter", () => {
  it("admits at most max holders and hands slots over in FIFO order", async () => {
    const limiter = new ConcurrencyLimiter(2);
    const a = await limiter.acquire();
    const b = await limiter.acquire();
    const order: string[] = [];
    const c = limiter.acquire().then((release) => (order.push("c"), release));
    const d = limiter.acquire().then((release) => (order.push("d"), release));
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(2);
    a();
    a(); // releasing twice frees one slot only
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(["c", "d"]);
    expect(limiter.active).toBe(0);
  });

  it("drops a waiter whose signal aborts", async () => {
    const limiter = new ConcurrencyLimiter(1);
    const release = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(limiter.queued).toBe(0);
    release();
    expect(limiter.active).toBe(0);
  });
});

describe("CircuitBreaker", () => {
  it("opens after threshold consecutive failures, half-opens after the cooldown with one trial, closes on success", () => {
    let now = 0;
    const breaker = new CircuitBreaker(3, 1000, () => now);
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.snapshot()).toEqual({ state: "open", consecutiveFailures: 3, retryAt: 1000 });
    expect(breaker.tryAcquire()).toBe(false);
    now = 1000;
    expect(breaker.snapshot().state).toBe("half-open");
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.snapshot()).toEqual({ state: "closed", consecutiveFailures: 0 });
  });

  it("re-opens for another cooldown when the half-open trial fails, and frees the trial slot on release", () => {
    let now = 0;
    const breaker = new CircuitBreaker(1, 500, () => now);
    breaker.failure();
    now = 500;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.snapshot()).toMatchObject({ state: "open", retryAt: 1000 });
    expect(breaker.tryAcquire()).toBe(false);
  });
});
