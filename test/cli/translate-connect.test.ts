/**
 * `gateway translate --connect*`: a remote MCP server as stdio. Spoken to with raw newline-delimited JSON-RPC on the
 * process's stdin/stdout, to prove stdout carries nothing else, headers reach the remote, bad input and an unreachable
 * remote become JSON-RPC errors, and the bridge exits when stdin ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { mintToken } from "../../src/auth/token.ts";
import { parseHeaders, parseRemoteUrl, repeatedFlag } from "../../src/cli/remote-transport.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { waitFor, within } from "../_helpers.ts";
import { startLegacyHttpServer, stdioServerCommand, type LegacyHttpServer } from "../fixtures/servers.ts";
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
  child.stderr!.resume();
  return {
    child,
    lines,
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

  it("rejects malformed flags with a readable error", () => {
    expect(parseHeaders(["Authorization: Bearer a:b", "X-Empty:"])).toEqual({ authorization: "Bearer a:b", "x-empty": "" });
    expect(() => parseHeaders(["no colon here"])).toThrow(/--header must look like "Name: value"/);
    expect(() => parseRemoteUrl("streamable-http", "ftp://host/x")).toThrow(/needs http: or https: URL/);
    expect(parseRemoteUrl("ws", "https://host/ws").protocol).toBe("wss:");
    expect(repeatedFlag(["--header", "A: 1", "--port", "2", "--header=B: 2", "--", "--header", "C"], "header")).toEqual(["A: 1", "B: 2"]);
  });
});
