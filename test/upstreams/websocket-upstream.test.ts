/**
 * `type: "websocket"` upstreams: a real MCP server over WebSocket (the SDK v1 fixture behind a `ws` server on
 * 127.0.0.1, and another gateway's `/ws`) reached through the front gateway by real SDK clients over HTTP.
 */
import type { IncomingHttpHeaders } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { Client as ClientV2 } from "@modelcontextprotocol/client";
import type { Transport as TransportV2 } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import type { Transport as TransportV1 } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { resolveConfig } from "../../src/config/resolve.ts";
import { GatewayConfigError, JsonRpcCode } from "../../src/errors.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { WsClientTransport } from "../../src/upstreams/ws-client-transport.ts";
import { connectV1, connectV2, endSession, firstText, waitFor, within } from "../_helpers.ts";
import { newStats } from "../fixtures/common.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";
import { createFixtureServerV1 } from "../fixtures/tools-v1.ts";
import { createFixtureServerV2 } from "../fixtures/tools-v2.ts";

const TOKEN = "ws-upstream-token-4d1f";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";
const CANARY = "canary-ws-secret-9b2e";

/** The server side of one socket, for an SDK v1 server. */
class ServerSocketTransport implements TransportV1 {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  constructor(private readonly socket: WebSocket) {}
  async start(): Promise<void> {
    this.socket.on("message", (data) => this.onmessage?.(JSON.parse(data.toString()) as JSONRPCMessage));
    this.socket.on("close", () => this.onclose?.());
    this.socket.on("error", (error) => this.onerror?.(error));
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.socket.send(JSON.stringify(message));
  }
  async close(): Promise<void> {
    this.socket.close();
  }
}

interface WsFixture {
  readonly url: string;
  readonly port: number;
  /** Handshake headers of every accepted connection, in order. */
  readonly handshakes: IncomingHttpHeaders[];
  /** Sockets open now. */
  open(): number;
  /** Registers one more tool on every connected server (each sends tools/list_changed). */
  addTool(name: string): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * The fixture server (echo, slow with progress, …) on SDK v1 (2025-11-25) or v2 (2026-07-28 too), one instance per
 * WebSocket connection, subprotocol `mcp`.
 */
async function startWsFixture(port = 0, sdk: "v1" | "v2" = "v1"): Promise<WsFixture> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port, handleProtocols: (offered) => (offered.has("mcp") ? "mcp" : false) });
  await within(new Promise((resolve, reject) => wss.once("listening", resolve).once("error", reject)), 5000, "the WS fixture to listen");
  const handshakes: IncomingHttpHeaders[] = [];
  const adders = new Set<(name: string) => void>();
  wss.on("connection", (socket, req) => {
    handshakes.push(req.headers);
    if (sdk === "v2") {
      // serveStdio serves both eras over any persistent transport (server/discover, then the 2026-07-28 session).
      serveStdio(() => createFixtureServerV2({ name: "wsfx2" }, newStats()), { transport: new ServerSocketTransport(socket) as TransportV2 });
      return;
    }
    const { server } = createFixtureServerV1({ name: "wsfx" }, newStats());
    const add = (name: string) => server.registerTool(name, { description: "added later" }, async () => ({ content: [{ type: "text", text: name }] }));
    adders.add(add);
    socket.on("close", () => adders.delete(add));
    void server.connect(new ServerSocketTransport(socket));
  });
  const actual = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${actual}/mcp`,
    port: actual,
    handshakes,
    open: () => wss.clients.size,
    addTool: (name) => adders.forEach((add) => add(name)),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
});

describe("websocket upstream", () => {
  let fixture: WsFixture;
  let gw: Gateway;
  let url: string;

  beforeAll(async () => {
    process.env.WS_UPSTREAM_TOKEN = TOKEN;
    fixture = await startWsFixture();
    gw = await createGateway({
      log: { level: "silent" },
      upstreams: {
        wsfx: {
          type: "websocket",
          url: fixture.url,
          headers: { Authorization: "Bearer ${env.WS_UPSTREAM_TOKEN}" },
          timeout: 5000,
          restart: { initialDelayMs: 50, maxDelayMs: 200 },
        },
      },
    });
    url = (await gw.listen({ port: 0 })).url;
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
    await fixture?.close();
    delete process.env.WS_UPSTREAM_TOKEN;
  });

  it("merges and namespaces the upstream's tools, calls them, and sends the configured headers on the handshake", async () => {
    expect(gw.health().upstreams.wsfx).toMatchObject({ type: "websocket", state: "connected", era: "legacy" });
    expect(fixture.handshakes.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
    const client = await connectV1(`${url}/mcp`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["wsfx__echo", "wsfx__slow", "wsfx__add"]));
      expect(firstText(await client.callTool({ name: "wsfx__echo", arguments: { text: "héllo 🙂" } }))).toBe("héllo 🙂");
      const failed = await client.callTool({ name: "wsfx__throws", arguments: {} }).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failed?.message).toMatch(/boom/);
    } finally {
      await client.close();
    }
  });

  it("forwards progress notifications of a call in order", async () => {
    const client = await connectV2(`${url}/mcp`);
    try {
      const progress: number[] = [];
      const result = await client.callTool({ name: "wsfx__slow", arguments: { steps: 4, ms: 20 } }, { onprogress: (p) => progress.push(p.progress) });
      expect(firstText(result)).toBe("done");
      // The SDK client runs onprogress a microtask after it settles the response: the last one may miss.
      expect(progress.length).toBeGreaterThanOrEqual(3);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    } finally {
      await client.close();
    }
  });

  it("forwards tools/list_changed from the upstream and lists the new tool", async () => {
    const client = await connectV2(`${url}/mcp`);
    try {
      let changed = 0;
      client.setNotificationHandler("notifications/tools/list_changed", () => {
        changed++;
      });
      const subscription = await client.listen({ toolsListChanged: true });
      fixture.addTool("late_tool");
      await waitFor(() => changed > 0, 5000, "tools/list_changed");
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("wsfx__late_tool");
      expect(firstText(await client.callTool({ name: "wsfx__late_tool", arguments: {} }))).toBe("late_tool");
      await subscription.close?.();
    } finally {
      await client.close();
    }
  });

  it("fails calls with a JSON-RPC error within 1s when the upstream dies, and reconnects when it is back on the same port", async () => {
    const client = await connectV1(`${url}/mcp`);
    try {
      let progressed = 0;
      const inflight = client.callTool({ name: "wsfx__slow", arguments: { steps: 50, ms: 100 } }, undefined, { onprogress: () => progressed++ }).then(
        () => undefined,
        (error: Error & { code?: number }) => error,
      );
      await waitFor(() => progressed > 0, 2000, "the slow call to be running on the upstream");
      const dropped = Date.now();
      await fixture.close();
      const lost = await within(inflight, 2000, "the in-flight call to fail");
      expect(lost).toBeInstanceOf(Error);
      expect(lost?.code).toBe(JsonRpcCode.UpstreamError);
      expect(Date.now() - dropped).toBeLessThan(1000);
      await waitFor(() => gw.health().upstreams.wsfx?.state !== "connected", 2000, "the upstream to be seen as lost");

      const started = Date.now();
      const down = await client.callTool({ name: "wsfx__echo", arguments: { text: "x" } }).then(
        (r) => ({ error: r.isError ? firstText(r) : "no error" }),
        (error: Error & { code?: number }) => ({ error: error.message, code: error.code }),
      );
      expect(Date.now() - started).toBeLessThan(1000);
      expect(down.error).toMatch(/wsfx/);
      // Unavailable upstream, or (once the catalog dropped its tools) an unknown tool: a JSON-RPC error either way.
      expect([JsonRpcCode.UpstreamError, -32602]).toContain((down as { code?: number }).code);

      fixture = await startWsFixture(fixture.port);
      await waitFor(() => gw.health().upstreams.wsfx?.state === "connected", 5000, "the supervisor to reconnect");
      expect(gw.health().upstreams.wsfx?.restarts).toBeGreaterThanOrEqual(1);
      expect(fixture.handshakes.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
      expect(firstText(await client.callTool({ name: "wsfx__echo", arguments: { text: "back" } }))).toBe("back");
    } finally {
      await client.close();
    }
  }, 20_000);
});

describe("websocket upstream: an unanswered handshake", () => {
  it("gives up on a handshake after the upstream's timeout, closes the socket, and schedules a reconnect", async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const hole = createNetServer((socket) => {
      sockets.push(socket);
      // Read (and drop) the handshake: a paused socket would never see the client's FIN.
      socket.resume();
      socket.on("close", () => closed++);
    });
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => hole.close(resolve));
    });
    const port = (hole.address() as AddressInfo).port;
    const started = Date.now();
    const gw = await createGateway({
      log: { level: "silent" },
      upstreams: { hole: { type: "websocket", url: `ws://127.0.0.1:${port}/ws`, timeout: 300, restart: { initialDelayMs: 5000, maxDelayMs: 5000 } } },
    });
    cleanup.push(() => gw.close());
    await waitFor(() => gw.health().upstreams.hole?.state === "restarting", 3000, "the upstream to be restarting");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(gw.health().upstreams.hole?.lastError).toMatch(/handshake|timed out/i);
    await waitFor(() => closed === sockets.length && closed > 0, 2000, "the half-open socket to be closed");
  }, 10_000);
});

describe("websocket upstream: era negotiation over one persistent connection", () => {
  it("speaks 2026-07-28 to an upstream that offers it (protocol: auto)", async () => {
    const fixture = await startWsFixture(0, "v2");
    cleanup.push(() => fixture.close());
    const front = await createGateway({ log: { level: "silent" }, upstreams: { modern: { type: "websocket", url: fixture.url } } });
    cleanup.push(() => front.close());
    const frontUrl = (await front.listen({ port: 0 })).url;
    expect(front.health().upstreams.modern).toMatchObject({ type: "websocket", state: "connected", era: "modern", protocolVersion: "2026-07-28" });
    // One connection: the probe and the session share the socket.
    expect(fixture.handshakes).toHaveLength(1);
    const client = await connectV1(`${frontUrl}/mcp`);
    try {
      expect(firstText(await client.callTool({ name: "modern__echo", arguments: { text: "modern" } }))).toBe("modern");
    } finally {
      await client.close();
    }
  }, 30_000);

  it("chains gateways: another gateway's /ws (http:// URL converted to ws://) as the upstream", async () => {
    const { command, args } = stdioServerCommand({ name: "behind" });
    const back = await createGateway({ log: { level: "silent" }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
    cleanup.push(() => back.close());
    const backUrl = (await back.listen({ port: 0 })).url;
    const front = await createGateway({ log: { level: "silent" }, upstreams: { back: { type: "websocket", url: `${backUrl}/ws` } } });
    cleanup.push(() => front.close());
    const frontUrl = (await front.listen({ port: 0 })).url;
    expect(front.health().upstreams.back).toMatchObject({ type: "websocket", state: "connected" });
    expect(back.stats().sessions).toBe(1);
    const client = new ClientV2({ name: "t", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new WsClientTransport(new URL(`${frontUrl.replace(/^http/, "ws")}/ws`)));
    try {
      expect(firstText(await client.callTool({ name: "back__echo", arguments: { text: "over two sockets" } }))).toBe("over two sockets");
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe("websocket upstream: per-session isolation", () => {
  it("opens one socket per client session and closes it when the session ends", async () => {
    const fixture = await startWsFixture();
    cleanup.push(() => fixture.close());
    const gw = await createGateway({ log: { level: "silent" }, upstreams: { iso: { type: "websocket", url: fixture.url, isolation: "per-session" } } });
    cleanup.push(() => gw.close());
    const base = (await gw.listen({ port: 0 })).url;
    // The discovery connection.
    expect(fixture.handshakes).toHaveLength(1);
    const [a, b] = [await connectV1(`${base}/mcp`, "a"), await connectV1(`${base}/mcp`, "b")];
    try {
      expect(firstText(await a.callTool({ name: "iso__echo", arguments: { text: "a" } }))).toBe("a");
      expect(firstText(await b.callTool({ name: "iso__echo", arguments: { text: "b" } }))).toBe("b");
      expect(fixture.handshakes).toHaveLength(3);
      await waitFor(() => fixture.open() === 3, 2000, "three open sockets");
      await endSession(a);
      await waitFor(() => fixture.open() === 2, 5000, "the ended session's socket to close");
    } finally {
      await endSession(a);
      await endSession(b);
    }
  }, 30_000);
});

describe("websocket upstream: run-time (admin API) behind the SSRF guard", () => {
  it("refuses private addresses not in network.allow, naming config.url, and accepts an allowed one", async () => {
    const fixture = await startWsFixture();
    cleanup.push(() => fixture.close());
    const gw = await createGateway({
      log: { level: "silent" },
      storage: { db: "sqlite::memory:" },
      admin: { token: ADMIN_TOKEN },
      network: { allow: ["127.0.0.1"] },
      upstreams: { declared: { type: "websocket", url: fixture.url, headers: { "x-upstream-key": CANARY } } },
    });
    cleanup.push(() => gw.close());
    const base = (await gw.listen({ port: 0 })).url;
    const post = async (name: string, config: unknown) => {
      const response = await fetch(`${base}/admin/upstreams`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name, config }),
      });
      return { status: response.status, json: (await response.json()) as { errors?: { field: string; message: string }[] } };
    };
    for (const target of ["ws://10.1.2.3:8080/ws", "wss://169.254.169.254/", "ws://[::1]:9/ws", "ws://localhost:9/ws"]) {
      const refused = await post("bad", { type: "websocket", url: target });
      expect(refused.status, target).toBe(422);
      expect(refused.json.errors?.[0]?.field, target).toBe("config.url");
    }
    const unsealed = await post("creds", { type: "websocket", url: fixture.url, headers: { "x-upstream-key": "k" } });
    expect(unsealed.status).toBe(422);
    expect(unsealed.json.errors?.[0]?.field).toBe("config.headers.x-upstream-key");
    const typo = await post("typo", { type: "websocket", url: "ftp://127.0.0.1/ws" });
    expect(typo.json.errors?.[0]).toEqual({ field: "config.url", message: "expected a ws:// or wss:// URL" });

    const added = await post("live", { type: "websocket", url: fixture.url });
    expect(added.status).toBe(201);
    expect(fixture.handshakes.some((h) => h["x-upstream-key"] === CANARY)).toBe(true);
    const listed = await (await fetch(`${base}/admin/upstreams`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(listed).toContain('"x-upstream-key":"****"');
    expect(listed).not.toContain(CANARY);
    expect(JSON.stringify(gw.health())).not.toContain(CANARY);
    await waitFor(() => gw.health().upstreams.live?.state === "connected", 5000, "the run-time upstream to connect");
    const client = await connectV1(`${base}/mcp`);
    try {
      expect(firstText(await client.callTool({ name: "live__echo", arguments: { text: "hi" } }))).toBe("hi");
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe("websocket upstream config", () => {
  const issues = (upstream: unknown, env: Record<string, string> = {}) => {
    try {
      resolveConfig({ upstreams: { x: upstream } }, { env });
      return [];
    } catch (error) {
      if (!(error instanceof GatewayConfigError)) throw error;
      return error.issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it("names the field of a bad URL or header", () => {
    expect(issues({ type: "websocket", url: "ftp://host/ws" })).toEqual(["upstreams.x.url: expected a ws:// or wss:// URL"]);
    expect(issues({ type: "websocket", url: "not a url" })).toEqual(["upstreams.x.url: expected a ws:// or wss:// URL"]);
    expect(issues({ type: "websocket" })).toEqual(["upstreams.x.url: required"]);
    expect(issues({ type: "websocket", url: "ws://h/ws", headers: { "bad header": "v" } })).toEqual(["upstreams.x.headers.bad header: expected a valid HTTP header name"]);
    expect(issues({ type: "websocket", url: "ws://h/ws", command: "x" })[0]).toMatch(/^upstreams\.x\.command: unknown key/);
    expect(issues({ type: "websocket", url: "ws://h/ws", forwardIdentity: { claims: ["sub"], as: "headers" } })).toEqual([
      'upstreams.x.forwardIdentity.as: a websocket upstream cannot take per-request headers: use "meta"',
    ]);
    expect(issues({ type: "websocket", url: "ws://h/ws", forwardIdentity: { claims: ["sub"], as: "meta" } })).toEqual([]);
  });

  it("converts http(s) to ws(s), interpolates header variables and applies the common defaults", () => {
    const resolved = resolveConfig(
      { upstreams: { x: { type: "websocket", url: "https://h.example/ws", headers: { authorization: "Bearer ${env.T}" }, isolation: "per-session" } } },
      { env: { T: "s3cret" } },
    );
    expect(resolved.upstreams[0]).toMatchObject({
      type: "websocket",
      url: "wss://h.example/ws",
      headers: { authorization: "Bearer s3cret" },
      prefix: "x",
      isolation: "per-session",
      protocol: "auto",
      timeout: 30_000,
    });
    expect(issues({ type: "websocket", url: "ws://h/ws", headers: { authorization: "${env.MISSING}" } })[0]).toMatch(/^upstreams\.x\.headers\.authorization: /);
    expect(resolveConfig({ upstreams: { x: { type: "websocket", url: "http://h:81/p?q=1" } } }).upstreams[0]).toMatchObject({ url: "ws://h:81/p?q=1" });
  });
});
