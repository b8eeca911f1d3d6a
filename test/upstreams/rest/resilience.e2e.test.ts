/**
 * Resilient REST calls through a real gateway: retries with backoff only where safe (idempotent methods or
 * tools marked idempotent), `Retry-After` honoured, per-attempt timeouts, concurrency and rate limits, and a
 * circuit breaker that fails fast while open and half-opens after its cooldown.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/client";
import type { GatewayConfig } from "../../../src/config/types.ts";
import { createGateway, type Gateway } from "../../../src/runtime/gateway.ts";
import { createLogger } from "../../../src/_utils/logger.ts";
import { connectV2, firstText, waitFor } from "../../_helpers.ts";
import { json, startApiServer, type ApiServer } from "./_api-server.ts";

describe("rest upstream: resilience", () => {
  let api: ApiServer;
  let gw: Gateway;
  let client: Client;
  let flaky = 0;
  let healthy = false;
  const hanging: (() => void)[] = [];

  /** Fails `flaky` more times with 503, then answers. */
  const flakyRoute = (_req: unknown, res: import("node:http").ServerResponse) => (flaky-- > 0 ? json(res, { error: "busy" }, 503) : json(res, { ok: true }));

  beforeAll(async () => {
    api = await startApiServer({
      "GET /flaky": flakyRoute,
      "POST /flaky": flakyRoute,
      "GET /later": (_req, res) => (flaky-- > 0 ? json(res, { error: "slow down" }, 429, { "retry-after": "1" }) : json(res, { ok: true })),
      "GET /hang": (_req, res) => void hanging.push(() => json(res, { late: true })),
      "GET /slow": (_req, res) => void setTimeout(() => json(res, { ok: true }), 40),
      "GET /fast": (_req, res) => json(res, { ok: true }),
      "GET /status": (_req, res) => (healthy ? json(res, { ok: true }) : json(res, { error: "down" }, 500)),
    });
    const fastRetries = { retries: 2, initialDelayMs: 5, maxDelayMs: 20 };
    const config: GatewayConfig = {
      server: { port: 0 },
      network: { allow: ["127.0.0.1"] },
      rest: {
        api: {
          baseUrl: api.url,
          retries: fastRetries,
          circuitBreaker: false,
          tools: {
            flakyGet: { method: "GET", path: "/flaky" },
            flakyPost: { method: "POST", path: "/flaky" },
            flakyIdempotentPost: { method: "POST", path: "/flaky", idempotent: true },
            later: { method: "GET", path: "/later" },
            hang: { method: "GET", path: "/hang", timeout: 200, retries: false },
            slow: { method: "GET", path: "/slow", concurrency: 2 },
            fast: { method: "GET", path: "/fast", rateLimit: { requestsPerSecond: 20, burst: 1 } },
          },
        },
        fragile: {
          baseUrl: api.url,
          retries: false,
          circuitBreaker: { failureThreshold: 2, cooldownMs: 300 },
          tools: { status: { method: "GET", path: "/status" } },
        },
      },
    };
    gw = await createGateway(config, { log: createLogger("silent") });
    const listener = await gw.listen({ port: 0 });
    client = await connectV2(`${listener.url}/mcp`);
  });

  afterAll(async () => {
    for (const release of hanging) release();
    await client?.close();
    await gw?.close();
    await api?.close();
  });

  it("retries a GET that fails twice with 503 and returns the third answer", async () => {
    flaky = 2;
    const before = api.count("GET /flaky");
    const result = await client.callTool({ name: "api__flakyGet", arguments: {} });
    expect(result.structuredContent).toEqual({ ok: true });
    expect(api.count("GET /flaky") - before).toBe(3);
    expect(gw.health().upstreams.api!.rest).toMatchObject({ retries: 2 });
  });

  it("does not retry a POST, unless the tool is marked idempotent", async () => {
    flaky = 2;
    let before = api.count("POST /flaky");
    const post = await client.callTool({ name: "api__flakyPost", arguments: {} });
    expect(post.isError).toBe(true);
    expect(firstText(post)).toMatch(/^HTTP 503/);
    expect(api.count("POST /flaky") - before).toBe(1);
    flaky = 2;
    before = api.count("POST /flaky");
    const idempotent = await client.callTool({ name: "api__flakyIdempotentPost", arguments: {} });
    expect(idempotent.structuredContent).toEqual({ ok: true });
    expect(api.count("POST /flaky") - before).toBe(3);
  });

  it("waits as long as Retry-After says before retrying a 429", async () => {
    flaky = 1;
    const started = Date.now();
    const result = await client.callTool({ name: "api__later", arguments: {} });
    expect(result.structuredContent).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("gives up on an attempt after the tool's timeout with a JSON-RPC error", async () => {
    const started = Date.now();
    await expect(client.callTool({ name: "api__hang", arguments: {} })).rejects.toThrow(/did not answer GET \/hang within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => client.callTool({ name: "api__slow", arguments: {} })));
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(api.count("GET /slow")).toBe(8);
    expect(api.maxInFlight).toBeLessThanOrEqual(2);
  });

  it("spaces calls by the token bucket (20/s, burst 1: 6 calls need ~250 ms, unlimited they take a few)", async () => {
    await client.callTool({ name: "api__fast", arguments: {} });
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => client.callTool({ name: "api__fast", arguments: {} })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it("opens the circuit after 2 failures (next call fails fast without a request), half-opens after the cooldown", async () => {
    healthy = false;
    for (let i = 0; i < 2; i++) expect((await client.callTool({ name: "fragile__status", arguments: {} })).isError).toBe(true);
    const seen = api.count("GET /status");
    await expect(client.callTool({ name: "fragile__status", arguments: {} })).rejects.toThrow(/circuit is open/);
    expect(api.count("GET /status")).toBe(seen);
    const health = gw.health().upstreams.fragile!;
    expect(health.rest).toMatchObject({ circuit: { state: "open", consecutiveFailures: 2 }, shortCircuited: 1 });
    expect(health.lastError).toMatch(/circuit open/);
    await waitFor(() => gw.health().upstreams.fragile!.rest?.circuit?.state === "half-open", 2000, "the circuit to half-open");
    healthy = true;
    expect((await client.callTool({ name: "fragile__status", arguments: {} })).structuredContent).toEqual({ ok: true });
    expect(gw.health().upstreams.fragile!.rest?.circuit).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });
});
