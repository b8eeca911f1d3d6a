/**
 * The legacy HTTP+SSE fast path (src/transports/legacy-sse.ts with fast-path.ts): after the handshake, a plain
 * `tools/call` or list POSTed to `/messages` is answered from the router and written to the session's stream, with
 * the same JSON-RPC bytes as the SDK path; cancellation, the end of the stream and client input (sampling through the
 * SDK's legacy shim) behave as before. A real SDK v1 upstream over HTTP; a raw SSE reader and a real SDK v1
 * SSEClientTransport against a real gateway on 127.0.0.1.
 */
import { Server } from "@modelcontextprotocol/server";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/index.ts";
import type { SessionInfo } from "../../src/runtime/session-server.ts";
import { SessionStore } from "../../src/runtime/sessions.ts";
import { createLegacySseHandlers } from "../../src/transports/legacy-sse.ts";
import { startFastPathGateway } from "./_fast-path-gateway.ts";
import { firstText, waitFor, within } from "../_helpers.ts";
import type { LegacyHttpServer } from "../fixtures/servers.ts";

let upstream: LegacyHttpServer;
let gw: Gateway;
let base: string;

beforeAll(async () => {
  ({ upstream, gw, base } = await startFastPathGateway("fast-sse"));
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

/** A raw legacy SSE session after initialize + initialized: POST messages, read what the stream answers. */
async function openSession() {
  const abort = new AbortController();
  const response = await fetch(`${base}/sse`, { headers: { accept: "text/event-stream" }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = (done: () => boolean) =>
    within(
      (async () => {
        while (!done()) {
          const chunk = await reader.read();
          if (chunk.done) throw new Error(`stream ended:\n${text}`);
          text += chunk.value;
        }
      })(),
      10_000,
      "SSE data",
    );
  await readUntil(() => text.includes("\n\n"));
  const endpoint = /event: endpoint\ndata: (.+)\n/.exec(text)![1]!;
  const postUrl = new URL(endpoint, `${base}/sse`).href;
  const post = async (message: unknown) => {
    const res = await fetch(postUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(message) });
    await res.text();
    return res.status;
  };
  /** The `data:` line of the stream's message with this id, exactly as sent. */
  const answer = async (id: number): Promise<string> => {
    const find = () => text.split("\n").find((line) => line.startsWith("data: ") && line.includes(`"id":${id}`) && !line.includes('"method"'));
    await readUntil(() => find() !== undefined);
    return find()!.slice(6);
  };
  expect(await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "raw-sse", version: "1" } } })).toBe(202);
  await answer(0);
  expect(await post({ jsonrpc: "2.0", method: "notifications/initialized" })).toBe(202);
  return { post, answer, close: () => abort.abort() };
}

/** The same request without and (which leaves it to the SDK) with a progress token. */
async function bothPaths(session: Awaited<ReturnType<typeof openSession>>, id: number, method: string, params: Record<string, unknown> = {}) {
  expect(await session.post({ jsonrpc: "2.0", id, method, params })).toBe(202);
  const fast = await session.answer(id);
  expect(await session.post({ jsonrpc: "2.0", id: id + 1000, method, params: { ...params, _meta: { progressToken: `p${id}` } } })).toBe(202);
  const slow = (await session.answer(id + 1000)).replace(`"id":${id + 1000}`, `"id":${id}`);
  return { fast, slow };
}

describe("legacy SSE fast path", () => {
  it("answers tools/call and the lists on the stream with the SDK path's bytes", async () => {
    const session = await openSession();
    try {
      const before = upstream.calls;
      const call = await bothPaths(session, 7, "tools/call", { name: "up__echo", arguments: { text: 'héllo "quoted"' } });
      expect(call.fast).toBe(call.slow);
      expect(JSON.parse(call.fast)).toEqual({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: 'héllo "quoted"' }], structuredContent: { text: 'héllo "quoted"' } } });
      expect(upstream.calls - before).toBe(2);
      for (const [i, method] of ["tools/list", "prompts/list", "resources/list", "resources/templates/list"].entries()) {
        const list = await bothPaths(session, 40 + i, method);
        expect(list.fast, method).toBe(list.slow);
      }
    } finally {
      session.close();
    }
  });

  it("answers errors like the SDK path: unknown tool, an upstream JSON-RPC error, an isError result, a plugin-blocked call", async () => {
    const session = await openSession();
    try {
      const cases: [string, Record<string, unknown>][] = [
        ["up__nope", {}],
        ["up__throws", {}],
        ["up__fail", {}],
        ["up__add", { a: 1, b: 2 }],
      ];
      for (const [i, [name, args]] of cases.entries()) {
        const { fast, slow } = await bothPaths(session, 20 + i, "tools/call", { name, arguments: args });
        expect(fast, name).toBe(slow);
      }
      expect(JSON.parse((await bothPaths(session, 30, "tools/call", { name: "up__add", arguments: { a: 1, b: 2 } })).fast).error.message).toContain("no adding");
    } finally {
      session.close();
    }
  });

  it("cancels a fast-path call on notifications/cancelled, and ends the session's calls when its stream closes", async () => {
    const session = await openSession();
    const cancelledBefore = upstream.cancelled;
    let callsBefore = upstream.calls;
    expect(await session.post({ jsonrpc: "2.0", id: 60, method: "tools/call", params: { name: "up__slow", arguments: { steps: 100, ms: 100 } } })).toBe(202);
    await waitFor(() => upstream.calls > callsBefore, 5000, "the slow call to reach the upstream");
    expect(await session.post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 60, reason: "user" } })).toBe(202);
    await waitFor(() => upstream.cancelled > cancelledBefore, 5000, "the upstream to see the cancel");

    callsBefore = upstream.calls;
    expect(await session.post({ jsonrpc: "2.0", id: 61, method: "tools/call", params: { name: "up__slow", arguments: { steps: 100, ms: 100 } } })).toBe(202);
    await waitFor(() => upstream.calls > callsBefore, 5000, "the second slow call to reach the upstream");
    session.close();
    await waitFor(() => upstream.cancelled > cancelledBefore + 1, 5000, "the upstream to see the second call cancelled with the session");
    await waitFor(() => gw.stats().sessions === 0, 5000, "the SSE session to end");
  });

  it("hands a call that needs client input to the SDK: sampling reaches an SDK SSE client once and the upstream runs once", async () => {
    const client = new ClientV1({ name: "sse-sampler", version: "1" }, { capabilities: { sampling: {} } });
    let sampled = 0;
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      sampled++;
      const content = request.params.messages[0]!.content as { type: string; text?: string };
      return { role: "assistant", model: "test", content: { type: "text", text: `re:${content.type === "text" ? content.text : "?"}` } };
    });
    await client.connect(new SSEClientTransport(new URL(`${base}/sse`)));
    try {
      const before = upstream.calls;
      expect(firstText(await within(client.callTool({ name: "up__sample", arguments: { prompt: "hi" } }), 10_000, "sampled call"))).toBe("sampled:re:hi");
      expect(sampled).toBe(1);
      expect(upstream.calls - before).toBe(1);
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "after" } }))).toBe("after");
    } finally {
      await client.close();
    }
  });
});

describe("legacy SSE: which path answers", () => {
  /** The handlers over a plain SDK Server whose tools/call says "sdk", with a router entry that says "fast". */
  function handlers() {
    const served: string[] = [];
    const sse = createLegacySseHandlers({
      sessions: new SessionStore(),
      messagesPath: "/messages",
      maxBodySize: 1 << 20,
      keepAliveMs: 0,
      createServer: (info: SessionInfo) => {
        const server = new Server({ name: "paths", version: "1" }, { capabilities: { tools: {} } });
        server.setRequestHandler("tools/call", () => (served.push("sdk"), { content: [{ type: "text", text: "sdk" }] }));
        info.direct = async () => (served.push("fast"), { content: [{ type: "text", text: "fast" }] });
        return server;
      },
    });
    return { sse, served };
  }

  it("takes the fast path only after initialize, and leaves a progress token to the SDK", async () => {
    const { sse, served } = handlers();
    const stream = await sse.open(new Request("http://127.0.0.1/sse"));
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (needle: string) => {
      while (!text.includes(needle)) text += (await within(reader.read(), 5000, needle)).value ?? "";
    };
    await until("\n\n");
    const postUrl = new URL(/data: (.+)\n/.exec(text)![1]!, "http://127.0.0.1/sse").href;
    const post = async (message: unknown) => (await sse.post(new Request(postUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(message) }))).status;
    const call = (id: number, meta?: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "t", arguments: {}, ...(meta ? { _meta: meta } : {}) } });

    expect(await post(call(1))).toBe(202);
    await until('"id":1}');
    expect(served).toEqual(["sdk"]);
    expect(await post({ jsonrpc: "2.0", id: 2, method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "x", version: "1" } } })).toBe(202);
    await until('"id":2}');
    expect(await post(call(3))).toBe(202);
    await until('"id":3}');
    expect(await post(call(4, { progressToken: "p" }))).toBe(202);
    await until('"id":4}');
    expect(served).toEqual(["sdk", "fast", "sdk"]);
    expect(text).toContain('{"result":{"content":[{"type":"text","text":"fast"}]},"jsonrpc":"2.0","id":3}');
    await reader.cancel();
  });
});
