/**
 * `gateway translate --connect*`: a remote MCP server as stdio. Spoken to with raw newline-delimited JSON-RPC on the
 * process's stdin/stdout, to prove stdout carries nothing else, headers reach the remote, bad input and an unreachable
 * remote become JSON-RPC errors, and the bridge exits when stdin ends. Then, through a real SDK stdio client, that it
 * survives the remote (a gateway serving /mcp, /sse and /ws) stopping and coming back on the same port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { Client as ClientV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { mintToken } from "../../src/auth/token.ts";
import { httpStatus, parseHeaders, parseRemoteUrl, repeatedFlag } from "../../src/cli/remote-transport.ts";
import { parseReconnectAttempts, parseReconnectDelay } from "../../src/cli/translate.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { firstText, nextEvent, waitFor, within } from "../_helpers.ts";
import { README_URI, startLegacyHttpServer, stdioServerCommand, triggerStdioNotifications, type LegacyHttpServer } from "../fixtures/servers.ts";
import { bin } from "./translate-process.ts";

const SECRET = "a-translate-connect-secret-of-32-bytes-or-more";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] };
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };

interface RawBridge {
  child: ChildProcess;
  send(message: unknown): void;
  sendRaw(line: string): void;
  /** Next stdout message with this id (every stdout line must be JSON-RPC). */
  reply(id: number | null): Promise<Record<string, unknown>>;
  lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function bridge(args: string[]): RawBridge {
  const child = spawn(process.execPath, [bin, "translate", ...args, "--log-level", "debug"], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let index: number;
    while ((index = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, index);
      buffered = buffered.slice(index + 1);
      lines.push(line);
      messages.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of waiters) wake();
    }
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    lines,
    stderr: () => stderr,
    send: (message) => child.stdin!.write(`${JSON.stringify(message)}\n`),
    sendRaw: (line) => child.stdin!.write(`${line}\n`),
    reply: (id) =>
      within(
        new Promise((resolve) => {
          const check = () => {
            const found = messages.find((m) => m.id === id && ("result" in m || "error" in m));
            if (found) {
              waiters.delete(check);
              resolve(found);
            }
          };
          waiters.add(check);
          check();
        }),
        15_000,
        `the reply to ${id}`,
      ),
  };
}

let remote: LegacyHttpServer;
let secured: Gateway;
let securedUrl: string;
beforeAll(async () => {
  remote = await startLegacyHttpServer({ name: "remote" });
  const { command, args } = stdioServerCommand({ name: "behind-auth" });
  secured = await createGateway({ log: { level: "silent" }, auth: { jwt }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
  securedUrl = (await secured.listen({ port: 0 })).url;
}, 30_000);
afterAll(async () => {
  await Promise.allSettled([remote?.close(), secured?.close()]);
});

describe("gateway translate --connect", () => {
  it("keeps stdout pure JSON-RPC, answers a non-JSON line with a parse error, and exits 0 when stdin ends", async () => {
    const b = bridge(["--connect", remote.url]);
    b.send(INIT);
    expect((await b.reply(1)).result).toMatchObject({ serverInfo: { name: "remote" } });
    b.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    b.sendRaw("this is not json");
    expect((await b.reply(null)).error).toMatchObject({ code: -32700 });
    b.send({ jsonrpc: "2.0", id: "two", method: "tools/call", params: { name: "echo", arguments: { text: "ünïcödé" } } });
    expect(((await b.reply("two" as unknown as number)).result as { content: { text: string }[] }).content[0]!.text).toBe("ünïcödé");
    expect(b.lines.every((line) => (JSON.parse(line) as { jsonrpc?: string }).jsonrpc === "2.0")).toBe(true);
    const exit = new Promise((resolve) => b.child.once("exit", resolve));
    b.child.stdin!.end();
    expect(await within(exit, 10_000, "the bridge to exit")).toBe(0);
    await waitFor(() => remote.sessions() === 0, 5000, "the remote session to be deleted");
  });

  it("sends --header values to the remote (a token-protected gateway answers only with it)", async () => {
    const token = await mintToken({ secret: SECRET, sub: "desk", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope: "tools" });
    const denied = bridge(["--connect", `${securedUrl}/mcp`]);
    denied.send(INIT);
    expect((await denied.reply(1)).error).toMatchObject({ code: -32011, message: expect.stringMatching(/Unauthorized/) });
    const allowed = bridge(["--connect", `${securedUrl}/mcp`, "--header", `Authorization: Bearer ${token}`, "--header", "X-Team: blue"]);
    allowed.send(INIT);
    expect((await allowed.reply(1)).result).toMatchObject({ serverInfo: { name: "mcp-gateway" } });
  });

  it("answers with a JSON-RPC error while the remote is unreachable, and connects once it is up (no cached failure)", async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const b = bridge(["--connect-ws", `ws://127.0.0.1:${port}/ws`]);
    b.send(INIT);
    expect((await b.reply(1)).error).toMatchObject({ code: -32011, message: expect.stringMatching(new RegExp(`^Cannot reach ws://127\\.0\\.0\\.1:${port}/ws: `)) });
    // A minimal MCP-over-WebSocket server comes up on that port.
    const wss = new WebSocketServer({ host: "127.0.0.1", port, handleProtocols: (offered) => (offered.has("mcp") ? "mcp" : false) });
    wss.on("connection", (socket) =>
      socket.on("message", (data) => {
        const message = JSON.parse(data.toString()) as { id?: number };
        if (message.id !== undefined) socket.send(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { protocolVersion: "2025-11-25", capabilities: {}, serverInfo: { name: "late", version: "1" } } }));
      }),
    );
    await new Promise((resolve) => wss.once("listening", resolve));
    try {
      b.send({ ...INIT, id: 2 });
      expect((await b.reply(2)).result).toMatchObject({ serverInfo: { name: "late" } });
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it("carries a 2026-07-28 desktop client in its own era through --connect (/mcp) and --connect-ws (/ws)", async () => {
    const token = await mintToken({ secret: SECRET, sub: "desk", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope: "tools" });
    for (const [flag, url] of [["--connect", `${securedUrl}/mcp`], ["--connect-ws", `${securedUrl.replace(/^http/, "ws")}/ws`]] as const) {
      const client = new ClientV2({ name: "desk-2026", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
      const transport = new StdioClientTransportV2({ command: process.execPath, args: [bin, "translate", flag, url, "--header", `Authorization: Bearer ${token}`, "--log-level", "error"] });
      try {
        await client.connect(transport);
        expect([flag, client.getNegotiatedProtocolVersion()]).toEqual([flag, "2026-07-28"]);
        expect(firstText(await client.callTool({ name: "echo", arguments: { text: `${flag} ✓` } }))).toBe(`${flag} ✓`);
      } finally {
        await client.close();
      }
    }
  }, 30_000);

  it("rejects malformed flags with a readable error", () => {
    expect(parseHeaders(["Authorization: Bearer a:b", "X-Empty:"])).toEqual({ authorization: "Bearer a:b", "x-empty": "" });
    expect(() => parseHeaders(["no colon here"])).toThrow(/--header must look like "Name: value"/);
    expect(() => parseRemoteUrl("streamable-http", "ftp://host/x")).toThrow(/needs http: or https: URL/);
    expect(parseRemoteUrl("ws", "https://host/ws").protocol).toBe("wss:");
    expect(repeatedFlag(["--header", "A: 1", "--port", "2", "--header=B: 2", "--", "--header", "C"], "header")).toEqual(["A: 1", "B: 2"]);
    expect(parseReconnectAttempts("unlimited")).toBe(Number.POSITIVE_INFINITY);
    expect(parseReconnectAttempts("0")).toBe(0);
    expect(() => parseReconnectAttempts("-1")).toThrow(/--reconnect must be an integer ≥ 0 or unlimited/);
    expect(() => parseReconnectDelay("0")).toThrow(/--reconnect-delay must be a positive number of milliseconds/);
    expect(httpStatus(new Error("Error POSTing to endpoint (HTTP 404): unknown session"))).toBe(404);
    expect(httpStatus(new TypeError("fetch failed"))).toBeUndefined();
  });
});

/** A gateway in front of the stdio fixture, serving /mcp, /sse and /ws; `port` restarts it where it was. */
async function remoteGateway(name: string, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const { command, args } = stdioServerCommand({ name });
  const gw = await createGateway({ log: { level: "silent" }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } }, { keepAliveMs: 1000 });
  const { url } = await gw.listen({ port });
  const close = () => gw.close();
  cleanup.push(close);
  return { port: Number(new URL(url).port), close };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
});

const REMOTES = {
  "streamable-http": (port: number) => ["--connect", `http://127.0.0.1:${port}/mcp`],
  sse: (port: number) => ["--connect-sse", `http://127.0.0.1:${port}/sse`],
  ws: (port: number) => ["--connect-ws", `ws://127.0.0.1:${port}/ws`],
} as const;

/** How each transport reports a drop nobody was waiting on (SSE and streamable HTTP only through `onerror`). */
const DROP_SEEN = {
  "streamable-http": /lost \(Maximum reconnection attempts/,
  sse: /lost \(event stream ended\)/,
  ws: /lost \(connection closed\)/,
} as const;

/** A desktop client: the SDK's stdio client running `gateway translate <args>`, counting tools/list_changed. */
async function desktop(args: string[]): Promise<{ client: Client; listChanged(): number; stderr(): string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, "translate", ...args, "--reconnect-delay", "100", "--log-level", "info"], stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: "desktop", version: "1" });
  let listChanged = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
  await within(client.connect(transport), 20_000, "translate to connect");
  cleanup.unshift(() => client.close());
  return { client, listChanged: () => listChanged, stderr: () => stderr };
}

describe("gateway translate --connect* reconnects", () => {
  for (const kind of Object.keys(REMOTES) as (keyof typeof REMOTES)[]) {
    it(`${kind}: fails calls (in flight and new) with "Remote connection lost, reconnecting" while the remote is down; once it is back the next call re-initializes at once, after a tools/list_changed`, async () => {
      const first = await remoteGateway("first");
      const { client, listChanged, stderr } = await desktop([...REMOTES[kind](first.port)]);
      expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("first");

      let running!: () => void;
      const started = new Promise<void>((resolve) => (running = resolve));
      const inFlight = client
        .callTool({ name: "slow", arguments: { steps: 50, ms: 100 } }, undefined, { onprogress: () => running(), timeout: 60_000 })
        .then(() => new Error("the slow call succeeded"), (error: Error) => error);
      await within(started, 10_000, "the slow call to report progress");
      await first.close();
      expect((await within(inFlight, 10_000, "the in-flight call to fail")).message).toMatch(/Remote connection lost, reconnecting to /);

      const startedAt = Date.now();
      await expect(within(client.callTool({ name: "whoami", arguments: {} }), 10_000, "a call while down")).rejects.toThrow(/Remote connection lost, reconnecting to /);
      expect(Date.now() - startedAt).toBeLessThan(3000);

      // Back on the same port: the next call reconnects at once (no backoff wait) and the client hears list_changed first.
      const before = listChanged();
      await remoteGateway("second", first.port);
      expect(firstText(await within(client.callTool({ name: "whoami", arguments: {} }), 15_000, "a call after the restart"))).toBe("second");
      expect(listChanged()).toBeGreaterThan(before);
      expect(stderr()).toMatch(/reconnected to /);
    }, 60_000);
  }

  for (const kind of Object.keys(REMOTES) as (keyof typeof REMOTES)[]) {
    it(`${kind}: notices the drop with no request in flight, reconnects in the background and tells the client with tools/list_changed`, async () => {
      const first = await remoteGateway("first");
      const { client, listChanged, stderr } = await desktop([...REMOTES[kind](first.port)]);
      expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("first");
      await first.close();
      const second = await remoteGateway("second", first.port);
      await waitFor(() => DROP_SEEN[kind].test(stderr()), 10_000, "the bridge to notice the drop");
      await waitFor(() => listChanged() > 0, 10_000, "tools/list_changed after the reconnect");
      expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("second");
      await second.close();
    }, 40_000);
  }

  for (const kind of Object.keys(REMOTES) as (keyof typeof REMOTES)[]) {
    it(`${kind}: renews the client's resource subscriptions on the new remote session after reconnecting`, async () => {
      const first = await remoteGateway("first");
      const { client } = await desktop([...REMOTES[kind](first.port)]);
      await client.subscribeResource({ uri: README_URI });
      await client.subscribeResource({ uri: "fixture://items/1" });
      await client.unsubscribeResource({ uri: "fixture://items/1" });
      await first.close();
      await remoteGateway("second", first.port);
      await waitFor(async () => (await client.callTool({ name: "whoami", arguments: {} }).then(firstText, () => "")) === "second", 15_000, "the bridge to reconnect");
      const pid = Number(firstText(await client.callTool({ name: "pid", arguments: {} })));
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      // The new remote's upstream sends resources/updated only for URIs someone subscribed to: the bridge did.
      await waitFor(() => (triggerStdioNotifications(pid), updates.length > 0), 10_000, "resources/updated after the reconnect");
      expect(new Set(updates)).toEqual(new Set([README_URI]));
    }, 60_000);
  }

  it("exits 0 on stdin EOF while reconnecting, and keeps stdout pure JSON-RPC", async () => {
    const remote = await remoteGateway("short-lived");
    const b = bridge([...REMOTES.ws(remote.port), "--reconnect-delay", "100"]);
    b.send(INIT);
    expect((await b.reply(1)).result).toMatchObject({ serverInfo: { name: "mcp-gateway" } });
    b.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await remote.close();
    await waitFor(() => /reconnect attempt 2 to .* failed/.test(b.stderr()), 10_000, "two failed reconnect attempts");
    const exit = new Promise((resolve) => b.child.once("exit", resolve));
    b.child.stdin!.end();
    expect(await within(exit, 5000, "the bridge to exit")).toBe(0);
    expect(b.lines.every((line) => (JSON.parse(line) as { jsonrpc?: string }).jsonrpc === "2.0")).toBe(true);
  });

  it("with --reconnect 0 answers in-flight requests with an error and exits 1 when the remote drops", async () => {
    const remote = await remoteGateway("once");
    const b = bridge([...REMOTES.ws(remote.port), "--reconnect", "0"]);
    b.send(INIT);
    await b.reply(1);
    b.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const exit = new Promise((resolve) => b.child.once("exit", resolve));
    b.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "slow", arguments: { steps: 50, ms: 100 }, _meta: { progressToken: "p" } } });
    await nextEvent<void>((resolve) => b.child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("notifications/progress") && resolve()), 10_000, "progress");
    await remote.close();
    expect((await b.reply(2)).error).toMatchObject({ code: -32011, message: expect.stringMatching(/^Connection to ws:\/\/127\.0\.0\.1:\d+\/ws lost/) });
    expect(await within(exit, 5000, "the bridge to exit")).toBe(1);
  });
});
