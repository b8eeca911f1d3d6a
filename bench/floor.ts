/**
 * What no gateway or bridge can beat on this machine, measured in the same run as the benchmarks that quote it.
 * - `hopFloor`: one extra HTTP hop. A trivial node:http upstream answers a fixed JSON-RPC result; a trivial keep-alive
 *   node:http proxy forwards to it without parsing. Sequential p50 direct vs through the proxy.
 * - `transportFloor`: the same SDK client against a minimal MCP responder (fixed answers, no SDK) over stdio and over
 *   HTTP (the lean node:http client transport): what choosing HTTP instead of stdio costs the client by itself.
 * Separate processes, 127.0.0.1 only, bounded loops.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { HttpClientTransport } from "../src/upstreams/http-client-transport.ts";

const UPSTREAM = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => { const b = '{"result":{"content":[{"type":"text","text":"bench"}]},"jsonrpc":"2.0","id":1}'; s.writeHead(200, { "content-type": "application/json", "content-length": b.length }); s.end(b); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
const PROXY = `const http = require("node:http"); const agent = new http.Agent({ keepAlive: true }); const up = Number(process.argv[1]);
http.createServer((q, s) => { const r = http.request({ host: "127.0.0.1", port: up, method: q.method, path: q.url, headers: q.headers, agent }, (u) => { s.writeHead(u.statusCode, u.headers); u.pipe(s); }); q.pipe(r); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
/** Answers one JSON-RPC message (a line of text) the way a minimal MCP server would; notifications get `undefined`. */
const ANSWER = `const answer = (line) => { const m = JSON.parse(line); if (m.id === undefined) return undefined;
  const result = m.method === "initialize" ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "floor", version: "1" } } : { content: [{ type: "text", text: "bench" }] };
  return JSON.stringify({ result, jsonrpc: "2.0", id: m.id }); };`;
const STDIO_MCP = `${ANSWER} let buf = ""; process.stdin.setEncoding("utf8"); process.stdin.on("data", (c) => { buf += c; let i; while ((i = buf.indexOf("\\n")) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); const out = line.trim() && answer(line); if (out) process.stdout.write(out + "\\n"); } });`;
const HTTP_MCP = `${ANSWER} require("node:http").createServer((q, s) => { let body = ""; q.setEncoding("utf8"); q.on("data", (c) => (body += c)); q.on("end", () => { const out = q.method === "POST" ? answer(body) : undefined; if (!out) { s.writeHead(q.method === "POST" ? 202 : 405); s.end(); return; } s.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) }); s.end(out); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;

export interface Latency {
  p50: number;
  p99: number;
}

function start(code: string, args: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    child.once("error", reject);
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

async function measure(call: () => Promise<unknown>, n: number): Promise<Latency> {
  for (let i = 0; i < Math.min(200, n); i++) await call();
  const t: number[] = [];
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    const s = performance.now();
    await call();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(t.length / 2)]!, p99: t[Math.floor(t.length * 0.99)]! };
}

/** One extra HTTP hop through a do-nothing keep-alive proxy: p50/p99 direct and through it. */
export async function hopFloor(n = 2000): Promise<{ direct: Latency; proxied: Latency; proxyPid: number; stop(): void }> {
  const upstream = await start(UPSTREAM);
  const proxy = await start(PROXY, [String(upstream.port)]);
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "bench" } } });
  const call = (port: number) =>
    new Promise<void>((resolve, reject) => {
      const r = http.request({ host: "127.0.0.1", port, method: "POST", path: "/mcp", agent, headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
        res.resume();
        res.on("end", resolve);
      });
      r.on("error", reject);
      r.end(body);
    });
  const direct = await measure(() => call(upstream.port), n);
  const proxied = await measure(() => call(proxy.port), n);
  return {
    direct,
    proxied,
    proxyPid: proxy.child.pid!,
    stop: () => {
      agent.destroy();
      upstream.child.kill();
      proxy.child.kill();
    },
  };
}

/** The same SDK v1 client calling a minimal MCP responder over stdio and over HTTP (lean node:http client transport). */
export async function transportFloor(n = 1000): Promise<{ stdio: Latency; http: Latency }> {
  const stdioClient = new Client({ name: "floor", version: "1" });
  await stdioClient.connect(new StdioClientTransport({ command: process.execPath, args: ["-e", STDIO_MCP], stderr: "ignore" }));
  const server = await start(HTTP_MCP);
  const httpClient = new Client({ name: "floor", version: "1" });
  await httpClient.connect(new HttpClientTransport(new URL(`http://127.0.0.1:${server.port}/mcp`)));
  try {
    const call = (client: Client) => () => client.callTool({ name: "echo", arguments: { text: "bench" } });
    return { stdio: await measure(call(stdioClient), n), http: await measure(call(httpClient), n) };
  } finally {
    await stdioClient.close();
    await httpClient.close();
    server.child.kill();
  }
}
