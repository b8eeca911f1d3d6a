/**
 * `node bench/hop.ts`: the floor of one extra HTTP hop on this machine. A trivial node:http upstream answers a fixed
 * JSON-RPC result; a trivial keep-alive node:http proxy forwards to it (no parsing). Separate processes, 127.0.0.1.
 * Prints sequential p50/p99 direct vs through the proxy, and the proxy's CPU time per request.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { cpuMs } from "./harness.ts";

const N = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const UPSTREAM = `require("node:http").createServer((q, s) => { q.resume(); q.on("end", () => { const b = '{"result":{"content":[{"type":"text","text":"bench"}]},"jsonrpc":"2.0","id":1}'; s.writeHead(200, { "content-type": "application/json", "content-length": b.length }); s.end(b); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
const PROXY = `const http = require("node:http"); const agent = new http.Agent({ keepAlive: true }); const up = Number(process.argv[1]);
http.createServer((q, s) => { const r = http.request({ host: "127.0.0.1", port: up, method: q.method, path: q.url, headers: q.headers, agent }, (u) => { s.writeHead(u.statusCode, u.headers); u.pipe(s); }); q.pipe(r); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;

function start(code: string, args: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["-e", code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout!.once("data", (d: Buffer) => resolve({ child, port: Number(String(d).trim()) }));
  });
}

const agent = new http.Agent({ keepAlive: true });
const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "bench" } } });
function call(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, method: "POST", path: "/mcp", agent, headers: { "content-type": "application/json", "content-length": body.length } }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    r.on("error", reject);
    r.end(body);
  });
}
async function run(port: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 200; i++) await call(port);
  const t: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await call(port);
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(t.length / 2)]!, p99: t[Math.floor(t.length * 0.99)]! };
}

const upstream = await start(UPSTREAM);
const proxy = await start(PROXY, [String(upstream.port)]);
const direct = await run(upstream.port);
const cpu0 = cpuMs(proxy.child.pid!);
const via = await run(proxy.port);
const proxyCpu = (cpuMs(proxy.child.pid!) - cpu0) / (N + 200);
console.log(`direct p50 ${direct.p50.toFixed(3)} ms p99 ${direct.p99.toFixed(3)} ms`);
console.log(`proxy  p50 ${via.p50.toFixed(3)} ms p99 ${via.p99.toFixed(3)} ms  ratio p50 ${(via.p50 / direct.p50).toFixed(2)}× p99 ${(via.p99 / direct.p99).toFixed(2)}×`);
console.log(`one extra hop: +${(via.p50 - direct.p50).toFixed(3)} ms at p50; proxy CPU ${proxyCpu.toFixed(3)} ms/request`);
upstream.child.kill();
proxy.child.kill();
process.exit(0);
