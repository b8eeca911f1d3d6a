/**
 * `gateway translate --stdio`: process hygiene (children die with their session or with the bridge, however it ends),
 * crash reporting and restart, stdout noise from the child, and the serving flags (--expose, --health, /message, --cors,
 * --keep-alive).
 */
import type { ChildProcess } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { WsClientTransport } from "../../src/upstreams/ws-client-transport.ts";
import { connectSse, connectV1, endSession, firstText, isAlive, waitFor, within } from "../_helpers.ts";
import { parseLogLevel } from "../../src/cli/translate.ts";
import { parseExpose } from "../../src/cli/translate-serve.ts";
import { fixtureLine, startTranslate } from "./translate-process.ts";

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});
const start = async (line: string, extra: string[] = []) => {
  const translate = await startTranslate(line, extra);
  started.push(translate.child);
  return translate;
};
const pidOf = async (client: { callTool: Client["callTool"] }) => Number(firstText(await client.callTool({ name: "pid", arguments: {} })));
async function connectWs(url: string): Promise<Client> {
  const client = new Client({ name: "ws", version: "1" });
  await client.connect(new WsClientTransport(new URL(url.replace(/^http/, "ws") + "/ws")));
  return client;
}

describe("translate --isolation per-session", () => {
  it("runs one child per client session and ends it when that client disconnects (HTTP DELETE, SSE close, WS close)", async () => {
    const { url } = await start(fixtureLine(), ["--isolation", "per-session"]);
    const [http, sse, ws] = await Promise.all([connectV1(`${url}/mcp`), connectSse(`${url}/sse`), connectWs(url)]);
    const pids = await Promise.all([pidOf(http), pidOf(sse), pidOf(ws)]);
    expect(new Set(pids).size).toBe(3);
    expect(pids.every(isAlive)).toBe(true);
    await endSession(http);
    await waitFor(() => !isAlive(pids[0]!), 5000, "the HTTP session's child to exit");
    await sse.close();
    await waitFor(() => !isAlive(pids[1]!), 5000, "the SSE session's child to exit");
    await ws.close();
    await waitFor(() => !isAlive(pids[2]!), 5000, "the WS session's child to exit");
  });
});

describe("translate child lifetime", () => {
  it("exits 0 on SIGINT and takes the child down", async () => {
    const translate = await start(fixtureLine());
    const client = await connectV1(`${translate.url}/mcp`);
    const pid = await pidOf(client);
    translate.child.kill("SIGINT");
    expect(await translate.exited()).toBe(0);
    await waitFor(() => !isAlive(pid), 5000, "the child to exit");
  });

  it("leaves no child when the bridge itself is killed (SIGKILL: the child sees its stdin close)", async () => {
    const translate = await start(fixtureLine());
    const client = await connectV1(`${translate.url}/mcp`);
    const pid = await pidOf(client);
    translate.child.kill("SIGKILL");
    await translate.exited();
    await waitFor(() => !isAlive(pid), 5000, "the orphaned child to exit");
  });

  it("reports a crashed child to the client as an error and restarts it for the next call", async () => {
    const { url } = await start(fixtureLine());
    const client = await connectV1(`${url}/mcp`);
    const first = await pidOf(client);
    await expect(within(client.callTool({ name: "crash", arguments: {} }), 10_000, "the crash call")).rejects.toThrow();
    await waitFor(() => !isAlive(first), 5000, "the crashed child to be gone");
    let second = 0;
    await waitFor(async () => (second = await pidOf(client).catch(() => 0)) > 0, 15_000, "a restarted child");
    expect(second).not.toBe(first);
    await client.close();
  });

  it("logs stdout noise from the child instead of forwarding it or failing", async () => {
    const { url } = await start(`sh -c 'echo "this is not JSON-RPC"; exec "$0" "$@"' ${fixtureLine()}`);
    const client = await connectV1(`${url}/mcp`);
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("bridged");
    await client.close();
  });
});

describe("translate serving flags", () => {
  it("--expose streamable-http serves /mcp only; --health moves the health endpoint", async () => {
    const { url } = await start(fixtureLine(), ["--expose", "streamable-http", "--health", "/healthz"]);
    expect((await fetch(`${url}/sse`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(404);
    const refused = await within(
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, "mcp");
        socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        socket.on("error", () => resolve(-1));
      }),
      5000,
      "the refused upgrade",
    );
    expect(refused).not.toBe(0);
    const client = await connectV1(`${url}/mcp`);
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("bridged");
    await client.close();
  });

  it("accepts legacy SSE posts on /message as well as /messages, and pings idle SSE streams (--keep-alive)", async () => {
    const { url } = await start(fixtureLine(), ["--keep-alive", "0.05"]);
    const response = await fetch(`${url}/sse`);
    const reader = response.body!.getReader();
    let text = "";
    while (!/: ping/.test(text) || !text.includes("event: endpoint")) {
      const { value, done } = await within(reader.read(), 5000, "SSE frames");
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const sessionId = /sessionId=([\w-]+)/.exec(text)![1]!;
    const post = await fetch(`${url}/message?sessionId=${sessionId}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2024-11-05", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    expect(post.status).toBe(202);
    await reader.cancel();
  });

  it("--cors answers a preflight from an allowed origin with CORS headers and refuses other origins", async () => {
    const { url } = await start(fixtureLine(), ["--cors", "https://app.example"]);
    const ok = await fetch(`${url}/mcp`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(ok.headers.get("access-control-expose-headers")).toMatch(/mcp-session-id/);
    const foreign = await fetch(`${url}/mcp`, { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/json" }, body: "{}" });
    expect(foreign.status).toBe(403);
  });

  it("rejects bad flags with a readable error and exit code 1", async () => {
    expect(() => parseExpose("sse,carrier-pigeon")).toThrow(/--expose takes sse, streamable-http, ws; got "carrier-pigeon"/);
    expect([...parseExpose("http, WS")]).toEqual(["streamable-http", "ws"]);
    expect(() => parseLogLevel("loud")).toThrow(/--log-level must be one of/);
    await expect(start(fixtureLine(), ["--isolation", "sometimes"])).rejects.toThrow(/exited with 1[\s\S]*--isolation must be shared or per-session/);
  });
});
