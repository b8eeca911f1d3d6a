/**
 * Routing through a real gateway: every response, progress notification and server→client request
 * reaches the one client that caused it, with real SDK v1 and v2 clients over real HTTP, and real
 * upstreams of every kind (SDK v1 streamable HTTP, SDK v1 HTTP+SSE, SDK v2 2026-07-28 HTTP, SDK v1 stdio).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as HttpTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ProgressNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { GatewayConfig } from "../../src/config/types.ts";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { firstText, waitFor } from "../_helpers.ts";
import {
  startLegacyHttpServer,
  startLegacySseServer,
  startModernHttpServer,
  stdioServerCommand,
  type LegacyHttpServer,
  type LegacySseServer,
  type ModernHttpServer,
} from "../fixtures/servers.ts";

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/** A one-shot latch: pass `signal` as a callback (e.g. `onprogress`), then `await done`. */
function latch(): { done: Promise<void>; signal: () => void } {
  let signal!: () => void;
  const done = new Promise<void>((resolve) => (signal = resolve));
  return { done, signal };
}

type SamplingReply = string;
type ElicitReply = { action: "accept"; answer: string } | { action: "decline" };

interface ClientHandlers {
  sampling?: SamplingReply;
  elicit?: ElicitReply;
}

/** Every client a test opened; closed (sessions terminated) in afterAll/afterEach. */
class Clients {
  readonly #open = new Set<() => Promise<void>>();
  readonly #closers = new WeakMap<object, () => Promise<void>>();

  /** SDK v1 client (2025-11-25, session-based streamable HTTP); its JSON-RPC ids start at 0 like every other v1 client. */
  async v1(url: string, handlers: ClientHandlers = {}): Promise<ClientV1> {
    const client = new ClientV1(
      { name: "routing-v1", version: "1.0.0" },
      { capabilities: { ...(handlers.sampling ? { sampling: {} } : {}), ...(handlers.elicit ? { elicitation: {} } : {}) } },
    );
    if (handlers.sampling) {
      const reply = handlers.sampling;
      client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        model: "test",
        role: "assistant",
        content: { type: "text", text: reply },
      }));
    }
    if (handlers.elicit) {
      const reply = handlers.elicit;
      client.setRequestHandler(ElicitRequestSchema, async () =>
        reply.action === "accept" ? { action: "accept", content: { answer: reply.answer } } : { action: "decline" },
      );
    }
    const transport = new HttpTransportV1(new URL(url));
    await client.connect(transport);
    const close = async () => {
      this.#open.delete(close);
      // A well-behaved client ends its session (DELETE); closing alone leaves it to the server.
      await transport.terminateSession().catch(() => {});
      await client.close().catch(() => {});
    };
    this.#open.add(close);
    this.#closers.set(client, close);
    return client;
  }

  /** SDK v2 client negotiating automatically (the gateway offers 2026-07-28, so it runs stateless). */
  async v2(url: string, handlers: ClientHandlers = {}): Promise<ClientV2> {
    const client = new ClientV2(
      { name: "routing-v2", version: "1.0.0" },
      {
        versionNegotiation: { mode: "auto" },
        capabilities: { ...(handlers.sampling ? { sampling: {} } : {}), ...(handlers.elicit ? { elicitation: { form: {} } } : {}) },
      },
    );
    if (handlers.sampling) {
      const reply = handlers.sampling;
      client.setRequestHandler("sampling/createMessage", async () => ({
        model: "test",
        role: "assistant",
        content: { type: "text", text: reply },
      }));
    }
    if (handlers.elicit) {
      const reply = handlers.elicit;
      client.setRequestHandler("elicitation/create", async () =>
        reply.action === "accept" ? { action: "accept", content: { answer: reply.answer } } : { action: "decline" },
      );
    }
    await client.connect(new HttpTransportV2(new URL(url)));
    const close = async () => {
      this.#open.delete(close);
      await client.close().catch(() => {});
    };
    this.#open.add(close);
    this.#closers.set(client, close);
    return client;
  }

  /** Close one client (a v1 client ends its session first). */
  end(client: ClientV1 | ClientV2): Promise<void> {
    return this.#closers.get(client)?.() ?? Promise.resolve();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((close) => close()));
  }
}

/** The stdio fixture keeps its counters in the child: read them through its `stats` tool. */
async function stdioStats(client: ClientV1, tool: string): Promise<{ calls: number; cancelled: number }> {
  return JSON.parse(firstText(await client.callTool({ name: tool, arguments: {} }))) as { calls: number; cancelled: number };
}

const quiet = createLogger("silent");

// ---------------------------------------------------------------------------
// one gateway in front of one upstream of every kind
// ---------------------------------------------------------------------------

describe("routing through the gateway", () => {
  let legacyHttp: LegacyHttpServer;
  let legacySse: LegacySseServer;
  let modernHttp: ModernHttpServer;
  let gw: Gateway;
  let url: string;
  const clients = new Clients();

  /** Upstream prefixes, one per kind; `io` is the SDK v1 stdio fixture, `ms` the SDK v2 one speaking 2026-07-28. */
  const KINDS = ["lh", "sse", "mh", "io", "ms"] as const;
  const KIND_LABEL = { lh: "legacy streamable HTTP", sse: "legacy HTTP+SSE", mh: "2026-07-28 HTTP", io: "stdio", ms: "2026-07-28 stdio" } as const;

  beforeAll(async () => {
    [legacyHttp, legacySse, modernHttp] = await Promise.all([
      startLegacyHttpServer({ name: "lh" }),
      startLegacySseServer({ name: "sse" }),
      startModernHttpServer({ name: "mh" }),
    ]);
    gw = await createGateway(
      {
        upstreams: {
          lh: { type: "streamable-http", url: legacyHttp.url },
          sse: { type: "sse", url: legacySse.url },
          mh: { type: "streamable-http", url: modernHttp.url },
          io: { type: "stdio", ...stdioServerCommand({ name: "io" }) },
          ms: { type: "stdio", ...stdioServerCommand({ name: "ms" }, "v2") },
        },
      },
      { log: quiet, strictNames: false },
    );
    url = `${(await gw.listen({ port: 0 })).url}/mcp`;
  });

  afterAll(async () => {
    await clients.closeAll();
    await gw?.close();
    await Promise.all([legacyHttp?.close(), legacySse?.close(), modernHttp?.close()]);
  });

  it("connects every upstream kind (legacy HTTP, SSE and stdio in the legacy era, the v2 fixture in 2026-07-28)", () => {
    const { upstreams } = gw.health();
    expect(Object.fromEntries(KINDS.map((k) => [k, [upstreams[k]?.state, upstreams[k]?.era]]))).toEqual({
      lh: ["connected", "legacy"],
      sse: ["connected", "legacy"],
      mh: ["connected", "modern"],
      io: ["connected", "legacy"],
      ms: ["connected", "modern"],
    });
  });

  it("routes 1000 concurrent echo calls from 50 v1 clients with colliding JSON-RPC ids without one misrouted response", async () => {
    const CLIENTS = 50;
    const CALLS = 20;
    const started = Date.now();
    const callsBefore = legacyHttp.calls;
    const list = await Promise.all(Array.from({ length: CLIENTS }, () => clients.v1(url)));
    const misrouted: string[] = [];
    await Promise.all(
      list.map(async (client, c) => {
        await Promise.all(
          Array.from({ length: CALLS }, async (_, i) => {
            const sent = `client-${c}-call-${i}-${Math.random().toString(36).slice(2)}`;
            const result = await client.callTool({ name: "lh__echo", arguments: { text: sent } });
            const got = firstText(result);
            if (got !== sent || (result.structuredContent as { text?: string } | undefined)?.text !== sent) {
              misrouted.push(`${sent} -> ${got}`);
            }
          }),
        );
      }),
    );
    expect(misrouted).toEqual([]);
    expect(legacyHttp.calls - callsBefore).toBe(CLIENTS * CALLS);
    // All 50 sessions share the gateway's single upstream session.
    expect(legacyHttp.sessions()).toBe(1);
    await Promise.all(list.map((c) => clients.end(c)));
    expect(gw.stats().sessions).toBe(0);
    console.info(`[measure] 50 clients x 20 echo calls through the gateway: ${Date.now() - started} ms`);
  });

  describe("sampling reaches the client that made the call", () => {
    it("two v1 clients sampling concurrently through the shared legacy streamable-HTTP upstream each get their own answer", async () => {
      const [a, b] = await Promise.all([clients.v1(url, { sampling: "from-A" }), clients.v1(url, { sampling: "from-B" })]);
      for (let round = 0; round < 5; round++) {
        const [ra, rb] = await Promise.all([
          a.callTool({ name: "lh__sample", arguments: { prompt: `a${round}` } }),
          b.callTool({ name: "lh__sample", arguments: { prompt: `b${round}` } }),
        ]);
        expect([firstText(ra), firstText(rb)]).toEqual(["sampled:from-A", "sampled:from-B"]);
      }
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it.each(["io", "sse"] as const)("v1 clients sampling one after another through the %s upstream each get their own answer", async (kind) => {
      const [a, b] = await Promise.all([clients.v1(url, { sampling: "from-A" }), clients.v1(url, { sampling: "from-B" })]);
      expect(firstText(await a.callTool({ name: `${kind}__sample`, arguments: { prompt: "a" } }))).toBe("sampled:from-A");
      expect(firstText(await b.callTool({ name: `${kind}__sample`, arguments: { prompt: "b" } }))).toBe("sampled:from-B");
      expect(firstText(await a.callTool({ name: `${kind}__sample`, arguments: { prompt: "a" } }))).toBe("sampled:from-A");
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it("refuses a stdio sampling request it cannot attribute (another client's call in flight) instead of guessing", async () => {
      const [a, b] = await Promise.all([clients.v1(url, { sampling: "from-A" }), clients.v1(url, { sampling: "from-B" })]);
      const running = latch();
      const slow = b.callTool({ name: "io__slow", arguments: { steps: 30, ms: 20 } }, undefined, { onprogress: running.signal });
      await running.done;
      // Two sessions have calls in flight on the one stdio pipe: the sampling request carries no session.
      const result = await a.callTool({ name: "io__sample", arguments: { prompt: "a" } });
      expect(result.isError).toBe(true);
      expect(firstText(result)).toMatch(/cannot attribute sampling\/createMessage/);
      expect(firstText(result)).not.toMatch(/from-B/);
      expect(firstText(await slow)).toBe("done");
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it("concurrent stdio sampling from two clients never delivers one client's answer to the other", async () => {
      const [a, b] = await Promise.all([clients.v1(url, { sampling: "from-A" }), clients.v1(url, { sampling: "from-B" })]);
      const outcomes: string[] = [];
      for (let round = 0; round < 3; round++) {
        const [ra, rb] = await Promise.all([
          a.callTool({ name: "io__sample", arguments: { prompt: "a" } }),
          b.callTool({ name: "io__sample", arguments: { prompt: "b" } }),
        ]);
        for (const [result, own, other] of [
          [ra, "sampled:from-A", "from-B"],
          [rb, "sampled:from-B", "from-A"],
        ] as const) {
          const text = firstText(result);
          expect(text).not.toContain(other);
          if (result.isError) expect(text).toMatch(/cannot attribute/);
          else expect(text).toBe(own);
          outcomes.push(result.isError ? "refused" : "own");
        }
      }
      console.info(`[measure] concurrent stdio sampling outcomes: ${outcomes.join(",")}`);
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it.each(["lh", "sse", "mh", "io", "ms"] as const)(
      "a 2026-07-28 v2 client gets input_required through the %s upstream and auto-fulfils it with its own handler",
      async (kind) => {
        const [a, b] = await Promise.all([clients.v2(url, { sampling: "from-A" }), clients.v2(url, { sampling: "from-B" })]);
        expect(a.getNegotiatedProtocolVersion()).toBe("2026-07-28");
        expect(firstText(await a.callTool({ name: `${kind}__sample`, arguments: { prompt: "a" } }))).toBe("sampled:from-A");
        expect(firstText(await b.callTool({ name: `${kind}__sample`, arguments: { prompt: "b" } }))).toBe("sampled:from-B");
        await Promise.all([clients.end(a), clients.end(b)]);
      },
    );

    it("two v2 clients sampling concurrently through the HTTP upstreams and the 2026-07-28 stdio one each get their own answer", async () => {
      const [a, b] = await Promise.all([clients.v2(url, { sampling: "from-A" }), clients.v2(url, { sampling: "from-B" })]);
      // A 2026-07-28 upstream asks with input_required in the call's own result: attributable even on one stdio pipe.
      for (const kind of ["lh", "mh", "ms"] as const) {
        const [ra, rb] = await Promise.all([
          a.callTool({ name: `${kind}__sample`, arguments: { prompt: "a" } }),
          b.callTool({ name: `${kind}__sample`, arguments: { prompt: "b" } }),
        ]);
        expect([kind, firstText(ra), firstText(rb)]).toEqual([kind, "sampled:from-A", "sampled:from-B"]);
      }
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it.each([
      ["cancels its call", "cancel"],
      ["ends its session", "delete"],
    ] as const)("drops the pending input flow when a v1 client %s while its sampling request is unanswered", async (_, how) => {
      const flowsBefore = gw.stats().inputFlows;
      const asked = latch();
      const client = new ClientV1({ name: "routing-v1", version: "1.0.0" }, { capabilities: { sampling: {} } });
      client.setRequestHandler(CreateMessageRequestSchema, (_request, extra) => {
        asked.signal();
        // Never answers; gives up only when the gateway withdraws the request.
        return new Promise((_resolve, reject) => extra.signal.addEventListener("abort", () => reject(new Error("withdrawn"))));
      });
      const transport = new HttpTransportV1(new URL(url));
      await client.connect(transport);
      const controller = new AbortController();
      const call = client.callTool({ name: "lh__sample", arguments: { prompt: "never" } }, undefined, { signal: controller.signal });
      call.catch(() => {});
      await asked.done;
      expect(gw.stats().inputFlows).toBe(flowsBefore + 1);
      if (how === "cancel") controller.abort(new Error("user gave up"));
      else await transport.terminateSession();
      await waitFor(() => gw.stats().inputFlows === flowsBefore, 2000, "the input flow to be dropped");
      await transport.terminateSession().catch(() => {});
      await client.close();
      await expect(call).rejects.toThrow();
    });

    it.each(["mh", "ms"] as const)("v1 clients get the 2026-07-28 %s upstream's input_required as real sampling requests, concurrently", async (kind) => {
      const [a, b] = await Promise.all([clients.v1(url, { sampling: "from-A" }), clients.v1(url, { sampling: "from-B" })]);
      const [ra, rb] = await Promise.all([
        a.callTool({ name: `${kind}__sample`, arguments: { prompt: "a" } }),
        b.callTool({ name: `${kind}__sample`, arguments: { prompt: "b" } }),
      ]);
      expect([firstText(ra), firstText(rb)]).toEqual(["sampled:from-A", "sampled:from-B"]);
      await Promise.all([clients.end(a), clients.end(b)]);
    });
  });

  describe("elicitation reaches the client that made the call", () => {
    const accept: ElicitReply = { action: "accept", answer: "yes-A" };
    const decline: ElicitReply = { action: "decline" };

    it.each(["lh", "mh", "ms"] as const)("two v1 clients (accept / decline) concurrently through the %s upstream", async (kind) => {
      const [a, b] = await Promise.all([clients.v1(url, { elicit: accept }), clients.v1(url, { elicit: decline })]);
      const [ra, rb] = await Promise.all([
        a.callTool({ name: `${kind}__elicit`, arguments: { question: "a?" } }),
        b.callTool({ name: `${kind}__elicit`, arguments: { question: "b?" } }),
      ]);
      expect([firstText(ra), firstText(rb)]).toEqual(["answer:yes-A", "declined"]);
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it.each(["io", "sse"] as const)("two v1 clients (accept / decline) one after another through the %s upstream", async (kind) => {
      const [a, b] = await Promise.all([clients.v1(url, { elicit: accept }), clients.v1(url, { elicit: decline })]);
      expect(firstText(await a.callTool({ name: `${kind}__elicit`, arguments: { question: "a?" } }))).toBe("answer:yes-A");
      expect(firstText(await b.callTool({ name: `${kind}__elicit`, arguments: { question: "b?" } }))).toBe("declined");
      await Promise.all([clients.end(a), clients.end(b)]);
    });

    it.each(["lh", "sse", "mh", "io", "ms"] as const)("two v2 clients (accept / decline) through the %s upstream", async (kind) => {
      const [a, b] = await Promise.all([clients.v2(url, { elicit: accept }), clients.v2(url, { elicit: decline })]);
      const concurrent = kind === "lh" || kind === "mh" || kind === "ms";
      const call = (client: ClientV2, q: string) => client.callTool({ name: `${kind}__elicit`, arguments: { question: q } });
      const [ra, rb] = concurrent ? await Promise.all([call(a, "a?"), call(b, "b?")]) : [await call(a, "a?"), await call(b, "b?")];
      expect([firstText(ra), firstText(rb)]).toEqual(["answer:yes-A", "declined"]);
      await Promise.all([clients.end(a), clients.end(b)]);
    });
  });

  it("delivers progress to v1 and v2 clients with their own tokens through every upstream kind, all at once", async () => {
    const received = new Map<string, { token: unknown; progress: number }[]>();
    const jobs: Promise<void>[] = [];
    const opened: (ClientV1 | ClientV2)[] = [];
    for (const kind of KINDS) {
      for (const era of ["v1", "v2"] as const) {
        const label = `${era}-${kind}`;
        const seen: { token: unknown; progress: number }[] = [];
        received.set(label, seen);
        jobs.push(
          (async () => {
            // The clients' own tokens collide on purpose (every client uses "tok"); the gateway maps them.
            if (era === "v1") {
              const client = await clients.v1(url);
              opened.push(client);
              client.setNotificationHandler(ProgressNotificationSchema, (n) => {
                seen.push({ token: n.params.progressToken, progress: n.params.progress });
              });
              const result = await client.callTool({
                name: `${kind}__slow`,
                arguments: { steps: 5, ms: 20 },
                _meta: { progressToken: "tok" },
              });
              expect(firstText(result)).toBe("done");
            } else {
              const client = await clients.v2(url);
              opened.push(client);
              client.setNotificationHandler("notifications/progress", (n) => {
                seen.push({ token: n.params.progressToken, progress: n.params.progress });
              });
              const result = await client.callTool({
                name: `${kind}__slow`,
                arguments: { steps: 5, ms: 20 },
                _meta: { progressToken: "tok" },
              });
              expect(firstText(result)).toBe("done");
            }
          })(),
        );
      }
    }
    await Promise.all(jobs);
    const summary = Object.fromEntries(
      [...received].map(([label, seen]) => [
        label,
        {
          enough: seen.length === 5,
          ownToken: seen.every((p) => p.token === "tok"),
          increasing: seen.every((p, i) => i === 0 || p.progress > seen[i - 1]!.progress),
        },
      ]),
    );
    for (const label of received.keys()) expect(summary[label], label).toEqual({ enough: true, ownToken: true, increasing: true });
    console.info(`[measure] progress notifications received: ${[...received].map(([l, s]) => `${l}=${s.length}`).join(" ")}`);
    await Promise.all(opened.map((c) => clients.end(c)));
  });

  it("delivers progress to the right one of two concurrent v1 clients that both use token 1 on the same upstream", async () => {
    const [a, b] = await Promise.all([clients.v1(url), clients.v1(url)]);
    const seenA: number[] = [];
    const seenB: number[] = [];
    // Both SDK clients key progress by their own request id, which is the same number in both.
    const [ra, rb] = await Promise.all([
      a.callTool({ name: "io__slow", arguments: { steps: 5, ms: 20 } }, undefined, { onprogress: (p) => seenA.push(p.progress) }),
      b.callTool({ name: "io__slow", arguments: { steps: 6, ms: 20 } }, undefined, { onprogress: (p) => seenB.push(p.progress) }),
    ]);
    expect([firstText(ra), firstText(rb)]).toEqual(["done", "done"]);
    expect(seenA.length).toBeGreaterThanOrEqual(4);
    expect(seenB.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...seenA)).toBeLessThanOrEqual(5);
    await Promise.all([clients.end(a), clients.end(b)]);
  });

  it.each(["lh", "sse", "mh", "io", "ms"] as const)("a v1 client aborting slow through the %s upstream cancels it upstream", async (kind) => {
    const client = await clients.v1(url);
    const cancelled = async () =>
      kind === "io" || kind === "ms"
        ? (await stdioStats(client, `${kind}__stats`)).cancelled
        : { lh: legacyHttp, sse: legacySse, mh: modernHttp }[kind].cancelled;
    const before = await cancelled();
    const controller = new AbortController();
    const call = client.callTool({ name: `${kind}__slow`, arguments: { steps: 100, ms: 50 } }, undefined, {
      signal: controller.signal,
      onprogress: () => controller.abort(new Error("user gave up")),
    });
    await expect(call).rejects.toThrow(/user gave up/);
    await waitFor(async () => (await cancelled()) > before, 3000, `${KIND_LABEL[kind]} upstream to observe the cancellation`);
    await clients.end(client);
  });

  it("leaves no client session and no input flow behind once every client is closed", async () => {
    await clients.closeAll();
    await waitFor(() => gw.stats().sessions === 0 && gw.stats().inputFlows === 0, 2000, "gateway state to drain");
    expect(gw.stats()).toMatchObject({ sessions: 0, inputFlows: 0 });
    expect(gw.health().sessions).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// hot reload while clients are calling
// ---------------------------------------------------------------------------

describe("hot reload under traffic", () => {
  let upstreamA: LegacyHttpServer;
  let upstreamB: LegacyHttpServer;
  let gw: Gateway;
  let url: string;
  const clients = new Clients();

  const withA = (): GatewayConfig => ({ upstreams: { a: { type: "streamable-http", url: upstreamA.url } } });
  const withAB = (): GatewayConfig => ({
    upstreams: { a: { type: "streamable-http", url: upstreamA.url }, b: { type: "streamable-http", url: upstreamB.url } },
  });

  beforeAll(async () => {
    [upstreamA, upstreamB] = await Promise.all([startLegacyHttpServer({ name: "A" }), startLegacyHttpServer({ name: "B" })]);
    gw = await createGateway(withA(), { log: quiet });
    url = `${(await gw.listen({ port: 0 })).url}/mcp`;
  });

  afterAll(async () => {
    await clients.closeAll();
    await gw?.close();
    await Promise.all([upstreamA?.close(), upstreamB?.close()]);
  });

  it("adds an upstream without failing a call, tells clients, and drains a removed upstream's in-flight call", async () => {
    const v1 = await clients.v1(url);
    let v1Changed = 0;
    v1.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      v1Changed++;
    });
    const v2 = await clients.v2(url);
    let v2Changed = 0;
    v2.setNotificationHandler("notifications/tools/list_changed", () => {
      v2Changed++;
    });
    const subscription = await v2.listen({ toolsListChanged: true });
    const caller = await clients.v1(url);
    const names = async () => (await v1.listTools()).tools.map((t) => t.name);
    expect(await names()).not.toContain("b__echo");

    // Traffic to A for the whole test.
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const loop = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          const text = `loop-${i}`;
          const got = firstText(await caller.callTool({ name: "a__echo", arguments: { text } }));
          if (got === text) ok++;
          else failures.push(`${text} -> ${got}`);
        } catch (error) {
          failures.push(String(error));
          // A client that fails without I/O must not starve the event loop (and this test's timers).
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    })();
    // Stop the traffic even when an assertion below fails (afterAll then closes its client).
    onTestFinished(async () => {
      stop = true;
      await loop;
    });
    await waitFor(() => ok >= 5, 3000, "traffic to A");

    // A reload that changes nothing keeps every upstream and tells no client to re-list.
    await gw.reload(withA());
    await v1.ping();
    expect([v1Changed, v2Changed]).toEqual([0, 0]);

    await gw.reload(withAB());
    await waitFor(() => v1Changed >= 1 && v2Changed >= 1, 3000, "tools/list_changed on both clients");
    expect(await names()).toEqual(expect.arrayContaining(["a__echo", "b__echo", "b__slow"]));
    expect((await v2.listTools()).tools.map((t) => t.name)).toContain("b__echo");
    expect(firstText(await v1.callTool({ name: "b__whoami", arguments: {} }))).toBe("B");

    // Remove B while one of its calls runs: the call finishes, then B's tools are gone.
    const running = latch();
    const slow = v1.callTool({ name: "b__slow", arguments: { steps: 5, ms: 100 } }, undefined, { onprogress: running.signal });
    await running.done;
    const [changedV1, changedV2] = [v1Changed, v2Changed];
    const reloadStarted = Date.now();
    const reload = gw.reload(withA());
    expect(firstText(await slow)).toBe("done");
    await reload;
    const reloadMs = Date.now() - reloadStarted;
    await waitFor(() => v1Changed > changedV1 && v2Changed > changedV2, 3000, "tools/list_changed after removing B");
    expect((await names()).filter((n) => n.startsWith("b__"))).toEqual([]);
    await expect(v1.callTool({ name: "b__echo", arguments: { text: "x" } })).rejects.toThrow(/Unknown tool/);
    expect(gw.health().upstreams.b).toBeUndefined();

    stop = true;
    await loop;
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    console.info(`[measure] reload with a 5x100 ms call in flight on the removed upstream took ${reloadMs} ms; ${ok} calls to A meanwhile`);

    await subscription.close();
    await clients.closeAll();
    await waitFor(() => gw.stats().sessions === 0 && gw.stats().inputFlows === 0, 2000, "gateway state to drain");
  });
});
