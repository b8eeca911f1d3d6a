import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from "@modelcontextprotocol/client";
import type { StreamableHTTPClientTransport as HttpTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createGateway, GatewayError, type Gateway, type GatewayPlugin } from "../../src/index.ts";
import { memoryStore, RATE_LIMITED, rateLimit, type RateLimitRequest, type RateLimitStore } from "../../plugins/rate-limit/index.ts";
import { connectV1, endSession, firstText } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

/** Charge `store` once; every field but the clock has a default. */
function take(store: RateLimitStore, now: number, over: Partial<RateLimitRequest> = {}) {
  return store.take({ key: "k", algorithm: "token-bucket", cost: 1, limit: 5, windowMs: 60_000, now, ...over });
}

/** Charge `n` times at `now`; resolves with how many were allowed. */
async function burst(store: RateLimitStore, now: number, n: number, over: Partial<RateLimitRequest> = {}): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await take(store, now, over)).allowed) allowed++;
  return allowed;
}

describe("memory store: token bucket", () => {
  it("allows a burst of `limit`, then one call per windowMs/limit, with an exact retryAfterMs", async () => {
    const store = memoryStore();
    const remaining = [];
    for (let i = 0; i < 5; i++) remaining.push((await take(store, 0)).remaining);
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    expect(await take(store, 0)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 12_000 });
    expect(await take(store, 11_999)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1 });
    expect(await take(store, 12_000)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    expect((await take(store, 12_000)).allowed).toBe(false);
  });

  it("is exact when the refill interval is not a whole number of ms (3 per second: one every 333.3 ms)", async () => {
    const store = memoryStore();
    const opts = { limit: 3, windowMs: 1000 };
    expect(await burst(store, 0, 3, opts)).toBe(3);
    expect((await take(store, 0, opts)).retryAfterMs).toBe(334);
    expect(await take(store, 333, opts)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    expect((await take(store, 334, opts)).allowed).toBe(true);
    // Three refills later (1000 ms after the burst) exactly three calls fit again, not four.
    expect(await burst(store, 1334, 4, opts)).toBe(3);
  });

  it("never holds more than `limit` tokens, however long the key was idle", async () => {
    const store = memoryStore();
    expect(await burst(store, 0, 2)).toBe(2);
    expect(await burst(store, 3_600_000, 10)).toBe(5);
  });

  it("charges `cost` units and reports when that many are back", async () => {
    const store = memoryStore();
    expect(await take(store, 0, { cost: 3 })).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
    // 2 left, 3 needed: one more token, 12 s.
    expect(await take(store, 0, { cost: 3 })).toEqual({ allowed: false, remaining: 2, retryAfterMs: 12_000 });
  });

  it("grants nothing extra when the caller's clock steps back", async () => {
    const store = memoryStore();
    expect(await burst(store, 100_000, 5)).toBe(5);
    expect((await take(store, 0)).allowed).toBe(false);
    expect(await take(store, 112_000)).toMatchObject({ allowed: true });
  });
});

describe("memory store: sliding window", () => {
  const sw = { algorithm: "sliding-window", limit: 3, windowMs: 1000 } as const;

  it("admits at most `limit` in any (now - windowMs, now] and frees each slot exactly windowMs after it was taken", async () => {
    const store = memoryStore();
    for (const at of [0, 100, 200]) expect((await take(store, at, sw)).allowed).toBe(true);
    expect(await take(store, 999, sw)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1 });
    expect(await take(store, 1000, sw)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
    expect(await take(store, 1099, sw)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1 });
    expect((await take(store, 1100, sw)).allowed).toBe(true);
    expect((await take(store, 1200, sw)).allowed).toBe(true);
    expect((await take(store, 1200, sw)).allowed).toBe(false);
  });

  it("does not let a burst at the end of one window follow a burst at the start of the next (the fixed-window flaw)", async () => {
    const store = memoryStore();
    expect(await burst(store, 990, 3, sw)).toBe(3);
    expect(await take(store, 1010, sw)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 980 });
    expect(await burst(store, 1990, 4, sw)).toBe(3);
  });

  it("counts cost units and reports when enough of them have left the window", async () => {
    const store = memoryStore();
    expect((await take(store, 0, { ...sw, cost: 2 })).remaining).toBe(1);
    expect((await take(store, 500, sw)).remaining).toBe(0);
    // Needs 2 free slots: both stamps at 0 must leave, at 1000.
    expect(await take(store, 600, { ...sw, cost: 2 })).toEqual({ allowed: false, remaining: 0, retryAfterMs: 400 });
    expect((await take(store, 1000, { ...sw, cost: 2 })).allowed).toBe(true);
  });
});

describe("memory store: keys and bounds", () => {
  it("keeps keys, and the two algorithms on one key, apart", async () => {
    const store = memoryStore();
    expect(await burst(store, 0, 6, { key: "a" })).toBe(5);
    expect(await burst(store, 0, 6, { key: "b" })).toBe(5);
    expect(await burst(store, 0, 6, { key: "a", algorithm: "sliding-window" })).toBe(5);
  });

  it("drops keys whose state no longer matters (full bucket, empty window)", async () => {
    const store = memoryStore();
    for (let i = 0; i < 1000; i++) {
      await take(store, 0, { key: `tb${i}`, windowMs: 1000 });
      await take(store, 0, { key: `sw${i}`, windowMs: 1000, algorithm: "sliding-window" });
    }
    expect(store.size).toBe(2000);
    await take(store, 1000, { key: "late" });
    expect(store.size).toBe(1);
  });

  it("never holds more than maxKeys, and the least recently used key goes first", async () => {
    const store = memoryStore({ maxKeys: 100 });
    expect(await burst(store, 0, 5, { key: "hot" })).toBe(5);
    for (let i = 0; i < 10_000; i++) {
      await take(store, 0, { key: `cold${i}` });
      if (i % 50 === 0) expect((await take(store, 0, { key: "hot" })).allowed).toBe(false);
      expect(store.size).toBeLessThanOrEqual(100);
    }
    expect((await take(store, 0, { key: "hot" })).allowed).toBe(false);
    expect(() => memoryStore({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});

describe("rateLimit options", () => {
  it.each([
    [{ limit: 0, windowMs: 1000 }, /limit must be a positive integer/],
    [{ limit: 5, windowMs: 1.5 }, /windowMs must be a positive integer/],
    [{ limit: 5, windowMs: 1000, key: ["tool", "ip"] }, /key must be one or more of/],
    [{ limit: 5, windowMs: 1000, algorithm: "leaky" }, /unknown algorithm/],
  ])("rejects %j with a CONFIG_INVALID error", (options, message) => {
    const error = (() => {
      try {
        rateLimit(options as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: "CONFIG_INVALID", message: expect.stringMatching(message) });
  });
});

describe("rate-limit plugin through a real gateway", () => {
  let upstream: LegacyHttpServer;
  beforeAll(async () => {
    upstream = await startLegacyHttpServer({ name: "rl" });
  });
  afterAll(() => upstream?.close());

  async function withGateway(plugins: GatewayPlugin[], run: (url: string, gw: Gateway) => Promise<void>): Promise<void> {
    const gw = await createGateway({ log: { level: "silent" }, plugins, upstreams: { up: { type: "streamable-http", url: upstream.url } } });
    try {
      await run(`${(await gw.listen({ port: 0 })).url}/mcp`, gw);
    } finally {
      await gw.close();
    }
  }

  const echo = { name: "up__echo", arguments: { text: "hi" } };

  it("admits 5 calls per 60 s per session, rejects the 6th with -32029 and a retryAfter, and charges nothing else", async () => {
    await withGateway([rateLimit({ limit: 5, windowMs: 60_000 })], async (url) => {
      const a = await connectV1(url, "rl-a");
      const reachedBefore = upstream.calls;
      for (let i = 0; i < 5; i++) expect(firstText(await a.callTool(echo))).toBe("hi");
      const error = await a.callTool(echo).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: RATE_LIMITED,
        message: expect.stringContaining("Rate limit exceeded"),
        data: { plugin: "rate-limit", limit: 5, windowMs: 60_000, key: "session", retryAfter: expect.any(Number), retryAfterMs: expect.any(Number) },
      });
      const data = (error as { data: { retryAfter: number; retryAfterMs: number } }).data;
      expect(data.retryAfter).toBeGreaterThan(0);
      expect(data.retryAfter).toBe(Math.ceil(data.retryAfterMs / 1000));
      expect(data.retryAfterMs).toBeLessThanOrEqual(12_000);
      // The key is reported by kind only: the session id never reaches the client.
      const sessionId = (a.transport as HttpTransportV1).sessionId!;
      expect(JSON.stringify(error)).not.toContain(sessionId);
      expect(upstream.calls - reachedBefore).toBe(5);
      // Lists are not charged by default; another session has its own budget.
      expect((await a.listTools()).tools.length).toBeGreaterThan(0);
      const b = await connectV1(url, "rl-b");
      expect(firstText(await b.callTool(echo))).toBe("hi");
      await Promise.all([endSession(a), endSession(b)]);
    });
  });

  it("keyed by tool: one tool over its limit is rejected for every client, other tools still pass", async () => {
    await withGateway([rateLimit({ limit: 2, windowMs: 60_000, key: "tool" })], async (url) => {
      const [a, b] = await Promise.all([connectV1(url, "rl-a"), connectV1(url, "rl-b")]);
      await a.callTool(echo);
      await b.callTool(echo);
      await expect(a.callTool(echo)).rejects.toMatchObject({ code: RATE_LIMITED, data: { key: "tool" } });
      await expect(b.callTool(echo)).rejects.toMatchObject({ code: RATE_LIMITED });
      expect(firstText(await a.callTool({ name: "up__add", arguments: { a: 1, b: 2 } }))).toBe("3");
      await Promise.all([endSession(a), endSession(b)]);
    });
  });

  it("in permissive mode lets every call through", async () => {
    await withGateway([rateLimit({ limit: 1, windowMs: 60_000, mode: "permissive" })], async (url) => {
      const client = await connectV1(url, "rl-p");
      for (let i = 0; i < 3; i++) expect(firstText(await client.callTool(echo))).toBe("hi");
      await endSession(client);
    });
  });

  it("charges an input_required call once: its retried round passes even at limit 1", async () => {
    await withGateway([rateLimit({ limit: 1, windowMs: 60_000, key: "tool" })], async (url) => {
      const client = new ClientV2({ name: "rl-v2", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} } });
      client.setRequestHandler("sampling/createMessage", async () => ({ model: "t", role: "assistant", content: { type: "text", text: "once" } }));
      await client.connect(new HttpTransportV2(new URL(url)));
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      expect(firstText(await client.callTool({ name: "up__sample", arguments: { prompt: "p" } }))).toBe("sampled:once");
      await expect(client.callTool({ name: "up__sample", arguments: { prompt: "p" } })).rejects.toMatchObject({ code: RATE_LIMITED });
      await client.close();
    });
  });

  it("charges only the listed methods", async () => {
    await withGateway([rateLimit({ limit: 1, windowMs: 60_000, methods: ["tools/list"] })], async (url) => {
      const client = await connectV1(url, "rl-m");
      await client.listTools();
      await expect(client.listTools()).rejects.toMatchObject({ code: RATE_LIMITED });
      for (let i = 0; i < 3; i++) expect(firstText(await client.callTool(echo))).toBe("hi");
      await endSession(client);
    });
  });
});
