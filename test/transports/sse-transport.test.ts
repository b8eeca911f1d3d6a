import { Server } from "@modelcontextprotocol/server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { serve } from "srvx";
import type { Server as HttpServer } from "srvx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseServerTransport } from "../../src/transports/sse-transport.ts";
import { firstText, within } from "../_helpers.ts";

function createMcpServer(transport: SseServerTransport): Server {
  const server = new Server({ name: "sse-test", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler("tools/list", () => ({
    tools: [
      { name: "echo", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
      { name: "whoami", inputSchema: { type: "object" } },
    ],
  }));
  server.setRequestHandler("tools/call", (request) => {
    const text = request.params.name === "whoami" ? transport.sessionId : String(request.params.arguments?.["text"]);
    return { content: [{ type: "text", text }] };
  });
  return server;
}

interface TestServer {
  url: string;
  transports: Map<string, SseServerTransport>;
  closeCounts: Map<string, number>;
  /** Resolves on the first `onclose` of the given session. */
  closed(sessionId: string): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(keepAliveMs = 0): Promise<TestServer> {
  const transports = new Map<string, SseServerTransport>();
  const closeCounts = new Map<string, number>();
  const closeWaiters = new Map<string, () => void>();
  const closedPromises = new Map<string, Promise<void>>();
  const http: HttpServer = serve({
    port: 0,
    hostname: "127.0.0.1",
    silent: true,
    gracefulShutdown: false,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "GET" && url.pathname === "/sse") {
        const transport = new SseServerTransport({ messagesPath: "/messages", keepAliveMs });
        const id = transport.sessionId;
        transports.set(id, transport);
        closedPromises.set(id, new Promise((resolve) => closeWaiters.set(id, resolve)));
        transport.onclose = () => {
          closeCounts.set(id, (closeCounts.get(id) ?? 0) + 1);
          closeWaiters.get(id)?.();
        };
        await createMcpServer(transport).connect(transport);
        return transport.response();
      }
      if (request.method === "POST" && url.pathname === "/messages") {
        const transport = transports.get(url.searchParams.get("sessionId") ?? "");
        if (!transport) {
          return Response.json({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }, { status: 404 });
        }
        return transport.handlePostMessage(request);
      }
      return new Response("Not found", { status: 404 });
    },
  });
  await http.ready();
  return {
    url: http.url!.replace(/\/$/, ""),
    transports,
    closeCounts,
    closed: (sessionId) => closedPromises.get(sessionId) ?? Promise.reject(new Error(`no session ${sessionId}`)),
    async stop() {
      await Promise.all([...transports.values()].map((t) => t.close()));
      await http.close(true);
    },
  };
}

async function connectClient(base: string): Promise<{ client: Client; transport: SSEClientTransport; sessionId: string }> {
  const transport = new SSEClientTransport(new URL(`${base}/sse`));
  const client = new Client({ name: "v1-client", version: "1.0.0" });
  await client.connect(transport);
  const sessionId = await callText(client, "whoami");
  return { client, transport, sessionId };
}

async function callText(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  return firstText(await client.callTool({ name, arguments: args }));
}

/** Reads a raw `text/event-stream` body with fetch. */
async function openRawSse(url: string) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream" }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ended = false;
  async function readUntil(done: (text: string) => boolean): Promise<string> {
    while (!done(text)) {
      const chunk = await reader.read();
      if (chunk.done) {
        ended = true;
        break;
      }
      text += chunk.value;
    }
    return text;
  }
  return {
    response,
    readUntil: (predicate: (text: string) => boolean, ms: number) => within(readUntil(predicate), ms, "SSE data"),
    /** Resolves when the server ends the stream. */
    ended: (ms: number) => within(readUntil(() => false).then(() => ended), ms, "end of SSE stream"),
    abort: () => abort.abort(),
  };
}

function sessionIdFrom(text: string): string {
  const match = /event: endpoint\ndata: (\S+)\n\n/.exec(text);
  return new URL(match![1]!, "http://x").searchParams.get("sessionId")!;
}

describe("SseServerTransport with a real v1 SSE client", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("serves initialize, tools/list and tools/call to an SDK v1 SSEClientTransport", async () => {
    const { client } = await connectClient(server.url);
    expect(client.getServerVersion()).toMatchObject({ name: "sse-test" });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["echo", "whoami"]);
    expect(await callText(client, "echo", { text: "hi" })).toBe("hi");
    await client.close();
  });

  it("keeps two concurrent clients' messages apart even with colliding JSON-RPC ids", async () => {
    const a = await connectClient(server.url);
    const b = await connectClient(server.url);
    expect(a.sessionId).not.toBe(b.sessionId);
    const calls = (c: Client, prefix: string) =>
      Promise.all(Array.from({ length: 20 }, (_, i) => callText(c, "echo", { text: `${prefix}-${i}` })));
    const [fromA, fromB] = await Promise.all([calls(a.client, "a"), calls(b.client, "b")]);
    expect(fromA).toEqual(Array.from({ length: 20 }, (_, i) => `a-${i}`));
    expect(fromB).toEqual(Array.from({ length: 20 }, (_, i) => `b-${i}`));
    expect(await callText(a.client, "whoami")).toBe(a.sessionId);
    expect(await callText(b.client, "whoami")).toBe(b.sessionId);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it("round-trips a 5 MB non-ASCII payload intact", async () => {
    const { client } = await connectClient(server.url);
    const unit = "héllo wörld ✓ 日本語 🚀 ";
    const text = unit.repeat(Math.ceil((5 * 1024 * 1024) / Buffer.byteLength(unit)));
    expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    const echoed = await within(callText(client, "echo", { text }), 20_000, "5 MB echo");
    expect(echoed.length).toBe(text.length);
    expect(echoed === text).toBe(true);
    await client.close();
  });

  it("answers 404 for an unknown sessionId and for a session that has closed", async () => {
    const unknown = await fetch(`${server.url}/messages?sessionId=nope`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "ping", id: 1 }),
    });
    expect(unknown.status).toBe(404);

    const raw = await openRawSse(`${server.url}/sse`);
    const sessionId = sessionIdFrom(await raw.readUntil((t) => t.includes("\n\n"), 1000));
    await server.transports.get(sessionId)!.close();
    const closed = await fetch(`${server.url}/messages?sessionId=${sessionId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method: "ping", id: 1 }),
    });
    expect(closed.status).toBe(404);
    expect(await closed.json()).toMatchObject({ error: { code: -32001 } });
    raw.abort();
  });

  it("answers bad JSON with 400/-32700 and a non-message with 400/-32600", async () => {
    const raw = await openRawSse(`${server.url}/sse`);
    const text = await raw.readUntil((t) => t.includes("\n\n"), 1000);
    expect(text.startsWith("event: endpoint\ndata: /messages?sessionId=")).toBe(true);
    const post = (body: string) =>
      fetch(`${server.url}/messages?sessionId=${sessionIdFrom(text)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const badJson = await post("{not json");
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({ jsonrpc: "2.0", error: { code: -32700, message: expect.any(String) }, id: null });
    for (const body of ['{"hello":1}', '{"jsonrpc":"1.0","method":"ping","id":1}', "[]", "42"]) {
      const notMessage = await post(body);
      expect(notMessage.status).toBe(400);
      expect(await notMessage.json()).toMatchObject({ error: { code: -32600 } });
    }
    raw.abort();
  });

  it("fires onclose exactly once when the client disconnects", async () => {
    const { client, sessionId } = await connectClient(server.url);
    await client.close();
    await within(server.closed(sessionId), 1000, "server-side onclose");
    await server.transports.get(sessionId)!.close();
    expect(server.closeCounts.get(sessionId)).toBe(1);
  });

  it("ends the client's stream within 1 s when the server closes the session", async () => {
    const { client, sessionId } = await connectClient(server.url);
    // The v1 SSEClientTransport reports a server-ended stream via onerror (EventSource would reconnect
    // after 3 s); a client app closes on it, which is what fires onclose.
    const clientClosed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
      client.onerror = () => void client.close();
    });
    const startedAt = performance.now();
    await server.transports.get(sessionId)!.close();
    await within(clientClosed, 1000, "client onclose");
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(server.closeCounts.get(sessionId)).toBe(1);
  });

  it("ends a raw SSE stream promptly on server close()", async () => {
    const raw = await openRawSse(`${server.url}/sse`);
    const sessionId = sessionIdFrom(await raw.readUntil((t) => t.includes("\n\n"), 1000));
    await server.transports.get(sessionId)!.close();
    expect(await raw.ended(1000)).toBe(true);
  });
});

describe("SseServerTransport stream details", () => {
  it("writes `: ping` comment frames every keepAliveMs", async () => {
    const server = await startServer(20);
    try {
      const raw = await openRawSse(`${server.url}/sse`);
      expect(raw.response.headers.get("content-type")).toBe("text/event-stream");
      expect(raw.response.headers.get("cache-control")).toBe("no-cache");
      expect(raw.response.headers.get("x-accel-buffering")).toBe("no");
      const text = await raw.readUntil((t) => t.split(": ping\n\n").length > 3, 2000);
      expect(text).toMatch(/^event: endpoint\ndata: \/messages\?sessionId=[\w-]+\n\n(: ping\n\n)+/);
      raw.abort();
    } finally {
      await server.stop();
    }
  });

  it("closes the session with an error when an unread client exceeds maxQueueBytes", async () => {
    const transport = new SseServerTransport({ messagesPath: "/m", keepAliveMs: 0, maxQueueBytes: 4096 });
    const errors: Error[] = [];
    let closes = 0;
    transport.onerror = (error) => errors.push(error);
    transport.onclose = () => closes++;
    const response = transport.response();
    await transport.start();
    const message = { jsonrpc: "2.0" as const, method: "notifications/message", params: { data: "x".repeat(1000) } };
    let sent = 0;
    await expect(async () => {
      for (; sent < 100; sent++) await transport.send(message);
    }).rejects.toThrow(/not reading/);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(5);
    expect(errors).toHaveLength(1);
    expect(closes).toBe(1);
    expect(transport.closed).toBe(true);
    await expect(within(response.text(), 1000, "response body")).rejects.toThrow(/not reading/);
    await transport.close();
    expect(closes).toBe(1);
  });

  it("appends sessionId to a messagesPath that already has a query and rejects a second response()", async () => {
    const transport = new SseServerTransport({ messagesPath: "/m?tenant=a", sessionId: "s 1", keepAliveMs: 0 });
    const response = transport.response();
    expect(() => transport.response()).toThrow();
    await transport.start();
    await transport.send({ jsonrpc: "2.0", id: 1, result: {} });
    await transport.close();
    await transport.close();
    expect(await within(response.text(), 1000, "response body")).toBe(
      'event: endpoint\ndata: /m?tenant=a&sessionId=s%201\n\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
    );
  });

  it("delivers a pre-parsed body to onmessage with the request as extra", async () => {
    const transport = new SseServerTransport({ messagesPath: "/m", keepAliveMs: 0 });
    const received: unknown[][] = [];
    transport.onmessage = (message, extra) => received.push([message, extra]);
    const request = new Request("http://localhost/m?sessionId=x", { method: "POST" });
    expect((await transport.handlePostMessage(request, { jsonrpc: "2.0", method: "ping", id: 7 })).status).toBe(404);
    await transport.start();
    const response = await transport.handlePostMessage(request, { jsonrpc: "2.0", method: "ping", id: 7 });
    expect(response.status).toBe(202);
    expect(received).toEqual([[{ jsonrpc: "2.0", method: "ping", id: 7 }, { request }]]);
    await transport.close();
  });
});
