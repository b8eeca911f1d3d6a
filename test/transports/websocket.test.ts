/**
 * The gateway's WebSocket endpoint (`/ws`, subprotocol `mcp`): real SDK clients over the `ws`-based client
 * transport, a real stdio fixture upstream, auth and origin checks before the upgrade, keep-alive pings,
 * message size limits, the slow-client bound, and embedding with `gw.handleUpgrade` on a plain `node:http` server.
 * Both protocol eras on the same URL: 2025-era sessions (`initialize`) and 2026-07-28 connections (`server/discover`,
 * per-request envelopes, `subscriptions/listen` on the socket).
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { Client as ClientV2, type JSONRPCMessage } from "@modelcontextprotocol/client";
import type { Peer } from "crossws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { WsServerTransport } from "../../src/transports/ws-transport.ts";
import { WsClientTransport } from "../../src/upstreams/ws-client-transport.ts";
import { firstText, nextEvent, waitFor, within } from "../_helpers.ts";
import { README_URI, stdioServerCommand, triggerStdioNotifications } from "../fixtures/servers.ts";

const SECRET = "a-websocket-test-secret-of-at-least-32-bytes";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] };
const MAX_BODY = 64 * 1024;

let gw: Gateway;
let wsUrl: string;
let secured: Gateway;
let securedUrl: string;

beforeAll(async () => {
  const { command, args } = stdioServerCommand({ name: "ws-upstream" });
  gw = await createGateway(
    { log: { level: "silent" }, server: { maxBodySize: MAX_BODY }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } },
    { keepAliveMs: 500 },
  );
  wsUrl = (await gw.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
  secured = await createGateway({ log: { level: "silent" }, auth: { jwt }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
  securedUrl = (await secured.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
}, 30_000);

afterAll(async () => {
  await Promise.all([gw?.close(), secured?.close()]);
});

async function connectWs(url: string, headers?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "ws-test", version: "1" });
  await client.connect(new WsClientTransport(new URL(url), { headers }));
  return client;
}

/** Opens a raw socket and resolves with how the handshake ended. */
function handshake(url: string, headers: Record<string, string> = {}): Promise<{ status?: number; socket?: WebSocket; protocol?: string }> {
  return within(
    new Promise((resolve) => {
      const socket = new WebSocket(url, "mcp", { headers });
      socket.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode });
      });
      socket.once("open", () => resolve({ socket, protocol: socket.protocol }));
      socket.on("error", () => {});
    }),
    5000,
    "the WebSocket handshake",
  );
}

describe("gateway /ws", () => {
  it("serves a full MCP session over one WebSocket (list, call, progress) and ends the session when the socket closes", async () => {
    const client = await connectWs(wsUrl);
    expect(gw.stats().sessions).toBe(1);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("echo");
    expect(firstText(await client.callTool({ name: "echo", arguments: { text: "héllo 漢字 🙂" } }))).toBe("héllo 漢字 🙂");
    const progress: number[] = [];
    const result = await client.callTool({ name: "slow", arguments: { steps: 5, ms: 20 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(firstText(result)).toBe("done");
    // The SDK client runs onprogress a microtask after it settles the response: a last progress sharing the result's chunk can miss it.
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    await client.close();
    await waitFor(() => gw.stats().sessions === 0, 5000, "the WS session to end");
  });

  it("serves a 2026-07-28 client on the same /ws: discover, list, call, and tools/list_changed on its listen stream", async () => {
    const { command, args } = stdioServerCommand({ name: "ws-modern" });
    const fx = { type: "stdio" as const, command, args, prefix: false as const };
    const own = await createGateway({ log: { level: "silent" }, upstreams: { fx } });
    const url = (await own.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
    const client = new ClientV2({ name: "ws-modern", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    try {
      await client.connect(new WsClientTransport(new URL(url)));
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      expect(own.stats().sessions).toBe(1);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("echo");
      expect(firstText(await client.callTool({ name: "echo", arguments: { text: "modern 漢字" } }))).toBe("modern 漢字");
      const changed = nextEvent<void>((resolve) => client.setNotificationHandler("notifications/tools/list_changed", () => resolve()), 10_000, "tools/list_changed");
      const subscription = await client.listen({ toolsListChanged: true });
      // A second upstream joins: the merged list changes.
      await own.reload({ log: { level: "silent" }, upstreams: { fx, more: { ...fx, prefix: "more" } } });
      await changed;
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("more__echo");
      await subscription.close();
      await client.close();
      await waitFor(() => own.stats().sessions === 0, 5000, "the modern WS connection to end");
    } finally {
      await client.close();
      await own.close();
    }
  }, 30_000);

  it("holds the upstream resource subscription of a 2026-07-28 listen stream on /ws until the listen ends", async () => {
    const { command, args } = stdioServerCommand({ name: "ws-listen" });
    const own = await createGateway({ log: { level: "silent" }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
    const url = (await own.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
    const client = new ClientV2({ name: "ws-listen", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    try {
      await client.connect(new WsClientTransport(new URL(url)));
      const pid = Number(firstText(await client.callTool({ name: "pid", arguments: {} })));
      const updates: string[] = [];
      client.setNotificationHandler("notifications/resources/updated", (n) => void updates.push(n.params.uri));
      const subscription = await client.listen({ resourceSubscriptions: [README_URI] });
      // The fixture sends resources/updated only for URIs its client (the gateway) subscribed to.
      await waitFor(() => (triggerStdioNotifications(pid), updates.length > 0), 5000, "resources/updated on the listen stream");
      expect(updates[0]).toBe(README_URI);
      await subscription.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const seen = updates.length;
      triggerStdioNotifications(pid);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(updates.length).toBe(seen);
    } finally {
      await client.close();
      await own.close();
    }
  }, 30_000);

  it("a connection that probes with server/discover and then opens with initialize is one 2025-era session", async () => {
    // The discover request exactly as a 2026-07-28 client sends it.
    const sent: JSONRPCMessage[] = [];
    const probe = new WsClientTransport(new URL(wsUrl));
    const send = probe.send.bind(probe);
    probe.send = (message) => (sent.push(message), send(message));
    const modern = new ClientV2({ name: "ws-probe", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await modern.connect(probe);
    await modern.close();
    const discover = sent.find((m) => "method" in m && m.method === "server/discover")!;
    expect(discover).toBeDefined();
    await waitFor(() => gw.stats().sessions === 0, 5000, "the probing client's connection to end");

    const { socket } = await handshake(wsUrl);
    const replies = new Map<number | string, Record<string, unknown>>();
    socket!.on("message", (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.id !== undefined) replies.set(message.id as number, message);
    });
    const rpc = async (message: Record<string, unknown>) => {
      socket!.send(JSON.stringify(message));
      await waitFor(() => replies.has(message.id as number), 5000, `the answer to ${String(message.method)}`);
      return replies.get(message.id as number)!;
    };
    try {
      expect(await rpc({ ...discover, id: 1 })).toHaveProperty("result");
      const init = await rpc({ jsonrpc: "2.0", id: 2, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
      expect((init.result as { protocolVersion: string }).protocolVersion).toBe("2025-06-18");
      socket!.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
      const list = await rpc({ jsonrpc: "2.0", id: 3, method: "tools/list" });
      expect((list.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain("echo");
      // The probe instance was discarded: one session, not two.
      await waitFor(() => gw.stats().sessions === 1, 5000, "the probe instance to be discarded");
    } finally {
      socket!.close();
    }
    await waitFor(() => gw.stats().sessions === 0, 5000, "the session to end with its socket");
  });

  it("negotiates the mcp subprotocol and pings idle connections", async () => {
    const { socket, protocol } = await handshake(wsUrl);
    expect(protocol).toBe("mcp");
    await nextEvent<void>((resolve) => socket!.once("ping", () => resolve()), 5000, "a keep-alive ping");
    socket!.close();
  });

  it("answers a frame that is not JSON with a JSON-RPC parse error and keeps the connection", async () => {
    const { socket } = await handshake(wsUrl);
    const reply = nextEvent<string>((resolve) => socket!.once("message", (data) => resolve(data.toString())));
    socket!.send("not json");
    expect(JSON.parse(await reply)).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
    expect(socket!.readyState).toBe(WebSocket.OPEN);
    socket!.close();
  });

  it("closes the connection with 1009 when a message exceeds server.maxBodySize", async () => {
    const { socket } = await handshake(wsUrl);
    const closed = nextEvent<number>((resolve) => socket!.once("close", (code) => resolve(code)));
    socket!.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(MAX_BODY + 1) } }));
    expect(await closed).toBe(1009);
  });

  it("rejects the upgrade with 401 without a token and 403 for a foreign Origin, before any session exists", async () => {
    expect((await handshake(securedUrl)).status).toBe(401);
    expect((await handshake(wsUrl, { origin: "https://evil.example" })).status).toBe(403);
    expect(secured.stats().sessions).toBe(0);
    const token = await mintToken({ secret: SECRET, sub: "alice", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope: "tools" });
    const client = await connectWs(securedUrl, { authorization: `Bearer ${token}` });
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("ws-upstream");
    await client.close();
  });

  it("answers a plain GET /ws (no upgrade) with 426", async () => {
    const response = await fetch(wsUrl.replace(/^ws/, "http"));
    expect(response.status).toBe(426);
  });

  it("closes open WebSocket sessions (and their sockets) when the gateway closes", async () => {
    const { command, args } = stdioServerCommand({ name: "short-lived" });
    const short = await createGateway({ log: { level: "silent" }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
    const url = (await short.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
    const { socket } = await handshake(url);
    const closed = nextEvent<number>((resolve) => socket!.once("close", (code) => resolve(code)));
    await within(short.close(), 10_000, "the gateway to close");
    expect(await closed).toBe(1000);
    expect(short.stats().sessions).toBe(0);
  });

  it("can be embedded: gw.handler + gw.handleUpgrade on a node:http server", async () => {
    const server: HttpServer = createServer(gw.handler);
    server.on("upgrade", gw.handleUpgrade);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = await connectWs(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`);
      expect(firstText(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
      await client.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("WsServerTransport", () => {
  it("closes a client that is not reading with 1013 and a clear error once its queue exceeds the bound", async () => {
    const closes: [number?, string?][] = [];
    const peer = { bufferedAmount: 0, send: () => 0, close: (code?: number, reason?: string) => closes.push([code, reason]), request: new Request("http://x/ws") };
    const transport = new WsServerTransport(peer as unknown as Peer, { maxQueueBytes: 1024 });
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.start();
    await transport.send({ jsonrpc: "2.0", method: "notifications/message", params: {} });
    peer.bufferedAmount = 4096;
    await expect(transport.send({ jsonrpc: "2.0", method: "notifications/message", params: {} })).rejects.toThrow(/not reading/);
    expect(closes).toEqual([[1013, "client is not reading: send queue full"]]);
    expect(errors[0]?.message).toMatch(/more than 1024 bytes queued/);
  });
});
