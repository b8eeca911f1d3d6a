/**
 * The 2026-07-28 fast path (src/transports/fast-path-modern.ts): a plain stateless tools/call is answered from the
 * router with one `application/json` body carrying what the SDK path would send; everything else still goes through
 * the SDK (headers it refuses, progress, errors, `input_required`, contentless results), with the outcome computed
 * once. A real SDK v2 upstream over HTTP; raw requests and an SDK v2 client over real HTTP (only the fast path sends a
 * Content-Length JSON body: the SDK's answers are streamed).
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, definePlugin, type Gateway } from "../../src/index.ts";
import { KnownEnvelopes } from "../../src/transports/fast-path-modern.ts";
import { firstText, waitFor, within } from "../_helpers.ts";
import { startModernHttpServer, type ModernHttpServer } from "../fixtures/servers.ts";

const REVISION = "2026-07-28";
const SERVER_INFO = "io.modelcontextprotocol/serverInfo";
const envelope = {
  "io.modelcontextprotocol/protocolVersion": REVISION,
  "io.modelcontextprotocol/clientInfo": { name: "fast-modern", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

let upstream: ModernHttpServer;
let gw: Gateway;
let url: string;
/** Params each tools/call reached the router with (as plugins see them), by request marker. */
const seen: Record<string, unknown>[] = [];

beforeAll(async () => {
  upstream = await startModernHttpServer({ name: "modern-up" });
  const recorder = definePlugin({ name: "recorder", hooks: { "tools/call:before": ({ params }) => void seen.push(structuredClone(params)) } });
  const blocker = definePlugin({ name: "blocker", when: { names: ["up__add"] }, hooks: { "tools/call:before": () => ({ block: "no adding" }) } });
  // A result without `content` is the SDK's to normalise: the fast path must hand it over.
  const contentless = definePlugin({ name: "contentless", when: { names: ["up__whoami"] }, hooks: { "tools/call:after": () => ({ payload: { result: { structuredContent: { who: "x" } } } }) } });
  gw = await createGateway({ log: { level: "silent" }, plugins: [recorder, blocker, contentless], upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  url = `${(await gw.listen({ port: 0 })).url}/mcp`;
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

interface Call {
  id: number;
  name: string;
  arguments?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  headers?: Record<string, string>;
}

function post(call: Call): Promise<Response> {
  const params = { name: call.name, arguments: call.arguments ?? {}, _meta: { ...envelope, ...call.meta } };
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": REVISION,
      "mcp-method": "tools/call",
      "mcp-name": call.name,
      ...call.headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: call.id, method: "tools/call", params }),
  });
}

/** The JSON-RPC answer to `id`, how it came (`fast` = a Content-Length JSON body, as only the fast path sends), and the status. */
async function answer(response: Response, id: number): Promise<{ fast: boolean; status: number; message: Record<string, unknown> }> {
  const text = await within(response.text(), 10_000, "response body");
  const fast = response.headers.get("content-length") !== null && response.headers.get("content-type") === "application/json";
  if (response.headers.get("content-type")?.startsWith("application/json")) return { fast, status: response.status, message: JSON.parse(text) };
  const data = text.split("\n").filter((line) => line.startsWith("data: ") && line.includes(`"id":${id}`));
  expect(data, text).toHaveLength(1);
  return { fast, status: response.status, message: JSON.parse(data[0]!.slice(6)) };
}

/** The same call on the fast path and, with a progress token (which the fast path leaves to the SDK), on the SDK path. */
async function bothPaths(call: Call) {
  const fast = await answer(await post(call), call.id);
  const slow = await answer(await post({ ...call, id: call.id + 1000, meta: { ...call.meta, progressToken: `p${call.id}` } }), call.id + 1000);
  return { fast, slow };
}

describe("2026-07-28 fast path", () => {
  it("answers a plain tools/call with one JSON body equal to the SDK path's answer, stamped with the gateway's serverInfo", async () => {
    const before = upstream.calls;
    const { fast, slow } = await bothPaths({ id: 1, name: "up__echo", arguments: { text: 'héllo "quoted" 🙂' } });
    expect(fast.fast).toBe(true);
    expect(slow.fast).toBe(false);
    expect(fast.status).toBe(200);
    expect({ ...fast.message, id: 0 }).toEqual({ ...slow.message, id: 0 });
    const result = fast.message.result as Record<string, unknown>;
    expect(result).toEqual({
      content: [{ type: "text", text: 'héllo "quoted" 🙂' }],
      structuredContent: { text: 'héllo "quoted" 🙂' },
      resultType: "complete",
      _meta: { [SERVER_INFO]: { name: "mcp-gateway", version: expect.any(String) } },
    });
    expect(upstream.calls - before).toBe(2);
  });

  it("hands the router the params an SDK handler sees: envelope keys lifted, other _meta kept", async () => {
    seen.length = 0;
    await bothPaths({ id: 2, name: "up__echo", arguments: { text: "m" }, meta: { "com.example/trace": "t-1" } });
    expect(seen).toHaveLength(2);
    const [fast, slow] = seen as [Record<string, unknown>, Record<string, unknown>];
    expect(fast).toEqual({ name: "up__echo", arguments: { text: "m" }, _meta: { "com.example/trace": "t-1" } });
    expect({ ...slow, _meta: { ...(slow._meta as object), progressToken: undefined } }).toEqual({ ...fast, _meta: { ...(fast._meta as object), progressToken: undefined } });
  });

  it("hands errors to the SDK: unknown tool, upstream error, isError result and a plugin block answer exactly as on the SDK path", async () => {
    const cases: Call[] = [
      { id: 10, name: "up__nope" },
      { id: 11, name: "up__throws" },
      { id: 12, name: "up__fail" },
      { id: 13, name: "up__add", arguments: { a: 1, b: 2 } },
    ];
    for (const call of cases) {
      const { fast, slow } = await bothPaths(call);
      expect(fast.status, call.name).toBe(slow.status);
      expect({ ...fast.message, id: 0 }, call.name).toEqual({ ...slow.message, id: 0 });
    }
    const blocked = await answer(await post({ id: 14, name: "up__add", arguments: { a: 1, b: 2 } }), 14);
    expect((blocked.message.error as { message: string }).message).toContain("no adding");
    const failed = await answer(await post({ id: 15, name: "up__fail" }), 15);
    expect(failed.fast).toBe(true);
    expect((failed.message.result as { isError?: boolean }).isError).toBe(true);
  });

  it("hands a contentless result to the SDK, which normalises it, and runs the upstream call once", async () => {
    const before = upstream.calls;
    const got = await answer(await post({ id: 20, name: "up__whoami" }), 20);
    expect(got.fast).toBe(false);
    expect(got.message.result).toMatchObject({ structuredContent: { who: "x" }, content: expect.any(Array), resultType: "complete" });
    expect(upstream.calls - before).toBe(1);
  });

  it("leaves to the SDK the requests it must judge: header mismatches, a base64 Mcp-Name, a log level", async () => {
    const mismatch = await answer(await post({ id: 30, name: "up__echo", arguments: { text: "x" }, headers: { "mcp-name": "up__other" } }), 30);
    expect(mismatch.status).toBe(400);
    expect(mismatch.message.error).toBeDefined();
    const missing = await answer(await post({ id: 31, name: "up__echo", arguments: { text: "x" }, headers: { "mcp-method": "tools/list" } }), 31);
    expect(missing.status).toBe(400);
    const encoded = await answer(
      await post({ id: 32, name: "up__echo", arguments: { text: "b64" }, headers: { "mcp-name": `=?base64?${Buffer.from("up__echo").toString("base64")}?=` } }),
      32,
    );
    expect(encoded.fast).toBe(false);
    expect(firstText(encoded.message.result)).toBe("b64");
    const logged = await answer(await post({ id: 33, name: "up__echo", arguments: { text: "lvl" }, meta: { "io.modelcontextprotocol/logLevel": "debug" } }), 33);
    expect(logged.fast).toBe(false);
    expect(firstText(logged.message.result)).toBe("lvl");
  });

  it("a client that goes away mid-call cancels the upstream call", async () => {
    const cancelledBefore = upstream.cancelled;
    const callsBefore = upstream.calls;
    const controller = new AbortController();
    const body = { jsonrpc: "2.0", id: 40, method: "tools/call", params: { name: "up__slow", arguments: { steps: 100, ms: 100 }, _meta: envelope } };
    const pending = fetch(url, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": REVISION, "mcp-method": "tools/call", "mcp-name": "up__slow" },
      body: JSON.stringify(body),
    }).catch((error: unknown) => error);
    await waitFor(() => upstream.calls > callsBefore, 5000, "the slow call to reach the upstream");
    controller.abort();
    await pending;
    await waitFor(() => upstream.cancelled > cancelledBefore, 5000, "the upstream to see the cancel");
  });

  it("serves a real SDK v2 client: calls, an input_required round trip (elicitation) and concurrent calls with colliding ids", async () => {
    const client = new Client({ name: "v2", version: "1" }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: "auto" } });
    client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { answer: "blue" } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(REVISION);
      expect(firstText(await client.callTool({ name: "up__elicit", arguments: { question: "colour?" } }))).toBe("answer:blue");
      const others = Array.from({ length: 4 }, () => new Client({ name: "v2", version: "1" }, { versionNegotiation: { mode: "auto" } }));
      await Promise.all(others.map((c) => c.connect(new StreamableHTTPClientTransport(new URL(url)))));
      const texts = await Promise.all(
        [client, ...others].flatMap((c, i) => Array.from({ length: 10 }, (_, j) => c.callTool({ name: "up__echo", arguments: { text: `c${i}-${j}` } }).then(firstText))),
      );
      expect(texts).toEqual([client, ...others].flatMap((_, i) => Array.from({ length: 10 }, (__, j) => `c${i}-${j}`)));
      await Promise.all(others.map((c) => c.close()));
    } finally {
      await client.close();
    }
  });

  it("never lets a known envelope carry what the SDK would refuse: bad capabilities, mismatched headers", async () => {
    expect((await answer(await post({ id: 50, name: "up__echo", arguments: { text: "ok" } }), 50)).fast).toBe(true);
    const badCaps = await answer(await post({ id: 51, name: "up__echo", arguments: { text: "x" }, meta: { "io.modelcontextprotocol/clientCapabilities": "oops" } }), 51);
    expect(badCaps.status).toBe(400);
    expect((badCaps.message.error as { code: number }).code).toBe(-32602);
    const mismatch = await answer(await post({ id: 52, name: "up__echo", arguments: { text: "x" }, headers: { "mcp-protocol-version": "2025-11-25" } }), 52);
    expect(mismatch.status).toBe(400);
    expect((await answer(await post({ id: 53, name: "up__echo", arguments: { text: "again" } }), 53)).fast).toBe(true);
  });
});

describe("KnownEnvelopes", () => {
  const request = (name: string) =>
    new Request("http://127.0.0.1/mcp", { method: "POST", headers: { "mcp-protocol-version": REVISION, "mcp-method": "tools/call", "mcp-name": name } });
  const body = (meta: Record<string, unknown> = envelope, extra: Record<string, unknown> = {}) => ({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "t", arguments: {}, _meta: meta },
    ...extra,
  });

  it("knows only envelopes it was told the classifier accepted, and only for requests with nothing else to judge", () => {
    const known = new KnownEnvelopes(2);
    expect(known.lookup(request("t"), body())).toBeUndefined();
    known.accept(body());
    expect(known.lookup(request("t"), body())).toEqual({ id: 1, method: "tools/call", params: { name: "t", arguments: {} } });
    expect(known.lookup(request("other"), body())).toBeUndefined();
    expect(known.lookup(request("t"), body(envelope, { extra: true }))).toBeUndefined();
    expect(known.lookup(request("t"), body({ ...envelope, traceparent: "x" }))).toBeUndefined();
    expect(known.lookup(request("t"), body({ ...envelope, "io.modelcontextprotocol/clientInfo": { name: "other", version: "1" } }))).toBeUndefined();
    // Bounded: a third envelope starts over.
    known.accept(body({ ...envelope, "io.modelcontextprotocol/clientInfo": { name: "b", version: "1" } }));
    known.accept(body({ ...envelope, "io.modelcontextprotocol/clientInfo": { name: "c", version: "1" } }));
    expect(known.lookup(request("t"), body())).toBeUndefined();
  });
});
