import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createGateway } from "../../src/index.ts";
import { createListCache } from "../../src/registry/list-cache.ts";
import { connectV1, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

const REDIS_URL = process.env.GATEWAY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
const redisUp = await probe.connect().then(
  () => true,
  () => false,
);
probe.disconnect();
if (!redisUp) console.warn(`\n!!! Redis at ${REDIS_URL} is unreachable: list cache Redis tests ${process.env.CI === "true" ? "FAIL under CI" : "SKIPPED"} !!!\n`);

describe("list cache (memory)", () => {
  it("returns what was stored, forgets invalidated lists, and ignores expired ones", async () => {
    const cache = createListCache({ url: "memory", ttlMs: 50 });
    await cache.set("fp", "tools", [{ name: "a" }]);
    expect(await cache.get("fp", "tools")).toEqual([{ name: "a" }]);
    expect(await cache.get("other", "tools")).toBeUndefined();
    await cache.invalidate("fp", "tools");
    expect(await cache.get("fp", "tools")).toBeUndefined();
    await cache.set("fp", "prompts", []);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.get("fp", "prompts")).toBeUndefined();
    await cache.close();
  });
});

describe.skipIf(!redisUp && process.env.CI !== "true")("list cache (Redis)", () => {
  let upstream: LegacyHttpServer;
  // This file is the only user of the gateway's list keys on the test Redis; start and end with none.
  const clear = async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys("mcp-gateway:lists:*");
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  };
  beforeAll(async () => {
    if (!redisUp) throw new Error(`Redis at ${REDIS_URL} is unreachable`);
    await clear();
    upstream = await startLegacyHttpServer({ name: "cached" });
  });
  afterAll(async () => {
    await upstream?.close();
    if (redisUp) await clear();
  });

  it("shares upstream lists between two gateways through Redis and drops them on list_changed", async () => {
    const config = {
      log: { level: "silent" as const },
      storage: { cache: REDIS_URL },
      upstreams: { up: { type: "streamable-http" as const, url: upstream.url } },
    };
    const first = await createGateway(config);
    const redis = new Redis(REDIS_URL);
    try {
      await waitFor(async () => (await redis.keys("mcp-gateway:lists:*:tools")).length > 0, 5000, "tools list in Redis");
      const keys = await redis.keys("mcp-gateway:lists:*:tools");
      const stored = JSON.parse((await redis.get(keys[0]!))!);
      expect(stored.items.map((t: { name: string }) => t.name)).toContain("echo");

      // A stale copy is served first, then replaced by the upstream's answer (stale-while-revalidate).
      const stale = JSON.stringify({ at: Date.now(), items: [{ name: "stale", inputSchema: { type: "object" } }] });
      await redis.set(keys[0]!, stale);
      const second = await createGateway(config);
      const { url } = await second.listen({ port: 0 });
      const client = await connectV1(`${url}/mcp`);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("up__echo");
      expect(names).not.toContain("up__stale");
      await client.close();
      await second.close();

      // list_changed from the upstream drops the cached copy and stores the fresh one.
      await redis.set(keys[0]!, stale);
      upstream.sendToolListChanged();
      await waitFor(async () => ((await redis.get(keys[0]!)) ?? "").includes('"echo"'), 5000, "fresh tools list in Redis");
    } finally {
      await first.close();
      await redis.quit();
    }
  });

  it("keeps working (straight to the upstream) when Redis is unreachable", async () => {
    const gw = await createGateway({
      log: { level: "silent" },
      storage: { cache: "redis://127.0.0.1:1" },
      upstreams: { up: { type: "streamable-http", url: upstream.url } },
    });
    try {
      const { url } = await gw.listen({ port: 0 });
      const client = await connectV1(`${url}/mcp`);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("up__echo");
      await client.close();
    } finally {
      await gw.close();
    }
  });
});
