/**
 * The streamable-HTTP fast path of 2025-era sessions (src/transports/fast-path.ts): which requests take it
 * (an `application/json` reply instead of the SDK's SSE stream), that its replies carry the same JSON-RPC bytes
 * as the SDK path, and that cancellation, session end and client input (sampling through the SDK's legacy shim)
 * behave as before. A real SDK v1 upstream over HTTP; raw requests through `gw.fetch`, SDK clients over real HTTP.
 */
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Gateway } from "../../src/index.ts";
import { startFastPathGateway } from "./_fast-path-gateway.ts";
import { firstText, waitFor, within } from "../_helpers.ts";
import type { LegacyHttpServer } from "../fixtures/servers.ts";

const VERSION = "2025-11-25";
const ACCEPT = "application/json, text/event-stream";

let upstream: LegacyHttpServer;
let gw: Gateway;
let url: string;

beforeAll(async () => {
  let base: string;
  ({ upstream, gw, base } = await startFastPathGateway("fast"));
  url = `${base}/mcp`;
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gw.fetch(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT, host: "127.0.0.1", ...headers },
      body: JSON.stringify(body),
    }),
  );
}

/** A fresh 2025-era session (initialize + initialized); returns the headers its requests carry. */
async function openSession(): Promise<Record<string, string>> {
  const init = await post({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: "fast-path", version: "1" } } });
  const sessionId = init.headers.get("mcp-session-id");
  await init.text();
  expect(sessionId).toBeTruthy();
  const headers = { "mcp-session-id": sessionId!, "mcp-protocol-version": VERSION };
  expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" }, headers)).status).toBe(202);
  return headers;
}

/** The reply's JSON-RPC message text exactly as sent, and how it came (`json` or `sse`). */
async function reply(response: Response, id: number): Promise<{ kind: "json" | "sse"; text: string }> {
  const text = await within(response.text(), 10_000, "response body");
  if (response.headers.get("content-type")?.startsWith("application/json")) return { kind: "json", text };
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice(6))
    .filter((line) => line.includes(`"id":${id}`));
  expect(data, text).toHaveLength(1);
  return { kind: "sse", text: data[0]! };
}

/** The same request on the fast path and (with a progress token, which the fast path leaves to the SDK) on the SDK path. */
async function bothPaths(headers: Record<string, string>, id: number, method: string, params: Record<string, unknown> = {}) {
  const fast = await reply(await post({ jsonrpc: "2.0", id, method, params }, headers), id);
  const slow = await reply(await post({ jsonrpc: "2.0", id, method, params: { ...params, _meta: { progressToken: `p${id}` } } }, headers), id);
  return { fast, slow };
}

describe("streamable HTTP fast path (2025-era sessions)", () => {
  it("answers tools/call with one application/json body carrying the same JSON-RPC bytes the SDK path streams", async () => {
    const headers = await openSession();
    const before = upstream.calls;
    const { fast, slow } = await bothPaths(headers, 7, "tools/call", { name: "up__echo", arguments: { text: "héllo \"quoted\"" } });
    expect(fast.kind).toBe("json");
    expect(slow.kind).toBe("sse");
    expect(fast.text).toBe(slow.text);
    expect(JSON.parse(fast.text)).toEqual({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: 'héllo "quoted"' }], structuredContent: { text: 'héllo "quoted"' } } });
    expect(upstream.calls - before).toBe(2);
  });

  it("answers errors like the SDK path: unknown tool, an upstream JSON-RPC error, an isError result, a plugin-blocked call", async () => {
    const headers = await openSession();
    const cases: [string, Record<string, unknown>][] = [
      ["up__nope", {}],
      ["up__throws", {}],
      ["up__fail", {}],
      ["up__add", { a: 1, b: 2 }],
    ];
    for (const [i, [name, args]] of cases.entries()) {
      const { fast, slow } = await bothPaths(headers, 20 + i, "tools/call", { name, arguments: args });
      expect(fast.kind, name).toBe("json");
      expect(fast.text, name).toBe(slow.text);
    }
    const blocked = JSON.parse((await bothPaths(headers, 30, "tools/call", { name: "up__add", arguments: { a: 1, b: 2 } })).fast.text);
    expect(blocked.error.message).toContain("no adding");
    expect(JSON.parse((await bothPaths(headers, 31, "tools/call", { name: "up__nope" })).fast.text).error.message).toBe("Unknown tool: up__nope");
  });

  it("answers tools/list, prompts/list, resources/list and resources/templates/list with the SDK path's bytes", async () => {
    const headers = await openSession();
    for (const [i, method] of ["tools/list", "prompts/list", "resources/list", "resources/templates/list"].entries()) {
      const { fast, slow } = await bothPaths(headers, 40 + i, method);
      expect(fast.kind, method).toBe("json");
      expect(fast.text, method).toBe(slow.text);
    }
  });

  it("leaves to the SDK what it must see: progress (streamed), unknown params, a client that does not accept SSE", async () => {
    const headers = await openSession();
    const progress = await post({ jsonrpc: "2.0", id: 50, method: "tools/call", params: { name: "up__slow", arguments: { steps: 2, ms: 1 }, _meta: { progressToken: "t" } } }, headers);
    expect(progress.headers.get("content-type")).toContain("text/event-stream");
    const body = await within(progress.text(), 10_000, "progress stream");
    expect(body.match(/notifications\/progress/g)?.length).toBeGreaterThanOrEqual(1);
    expect(body).toContain('"text":"done"');

    const unknownParam = await post({ jsonrpc: "2.0", id: 51, method: "tools/call", params: { name: "up__echo", arguments: { text: "x" }, extra: 1 } }, headers);
    expect(unknownParam.headers.get("content-type")).toContain("text/event-stream");
    await unknownParam.text();
    const jsonOnly = await post({ jsonrpc: "2.0", id: 52, method: "tools/list" }, { ...headers, accept: "application/json" });
    expect(jsonOnly.status).toBe(406);
  });

  it("cancels a fast-path call on notifications/cancelled: the upstream sees the cancel and the reply is an error", async () => {
    const headers = await openSession();
    const cancelledBefore = upstream.cancelled;
    const callsBefore = upstream.calls;
    const pending = post({ jsonrpc: "2.0", id: 60, method: "tools/call", params: { name: "up__slow", arguments: { steps: 100, ms: 100 } } }, headers);
    await waitFor(() => upstream.calls > callsBefore, 5000, "the slow call to reach the upstream");
    expect((await post({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 60, reason: "user" } }, headers)).status).toBe(202);
    const answered = await reply(await within(pending, 5000, "the cancelled call's reply"), 60);
    expect(answered.kind).toBe("json");
    expect(JSON.parse(answered.text).error).toBeDefined();
    await waitFor(() => upstream.cancelled > cancelledBefore, 5000, "the upstream to see the cancel");
  });

  it("ends the session's fast-path calls when the client deletes the session", async () => {
    const headers = await openSession();
    const cancelledBefore = upstream.cancelled;
    const callsBefore = upstream.calls;
    const pending = post({ jsonrpc: "2.0", id: 70, method: "tools/call", params: { name: "up__slow", arguments: { steps: 100, ms: 100 } } }, headers);
    await waitFor(() => upstream.calls > callsBefore, 5000, "the slow call to reach the upstream");
    const deleted = await gw.fetch(new Request("http://127.0.0.1/mcp", { method: "DELETE", headers: { ...headers, host: "127.0.0.1" } }));
    expect(deleted.status).toBe(200);
    await within(pending, 5000, "the call to end with its session");
    await waitFor(() => upstream.cancelled > cancelledBefore, 5000, "the upstream to see the cancel");
  });

  it("hands a call that needs client input to the SDK: sampling reaches the client once and the upstream runs once", async () => {
    const client = new ClientV1({ name: "sampler", version: "1" }, { capabilities: { sampling: {} } });
    let sampled = 0;
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      sampled++;
      const content = request.params.messages[0]!.content as { type: string; text?: string };
      return { role: "assistant", model: "test", content: { type: "text", text: `re:${content.type === "text" ? content.text : "?"}` } };
    });
    await client.connect(new V1HttpTransport(new URL(url)));
    try {
      const before = upstream.calls;
      const result = await within(client.callTool({ name: "up__sample", arguments: { prompt: "hi" } }), 10_000, "sampled call");
      expect(firstText(result)).toBe("sampled:re:hi");
      expect(sampled).toBe(1);
      expect(upstream.calls - before).toBe(1);
      // The same session's plain calls still take the fast path afterwards.
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "after" } }))).toBe("after");
    } finally {
      await client.close();
    }
  });
});
