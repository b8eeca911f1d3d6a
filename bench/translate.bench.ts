/**
 * `npm run bench:translate`: the same stdio server called directly over stdio and through `gateway translate` over
 * each exposed transport (streamable HTTP /mcp, WebSocket /ws, SSE /sse; BENCH_EXPOSE picks), in one run. Rounds alternate direct/translated to spread machine noise over both.
 * Prints sequential p50/p99, sequential calls/s, calls/s at 8 concurrent clients, and the added p50 per call.
 * Warm numbers follow BENCH_WARMUP (default 1000) calls per client: a bridge is a long-running process, and V8 needs
 * that many calls to optimise the path (after 50 the bridge still ran mostly unoptimised code, ~0.2 ms slower per
 * call). The cold line reports the first calls of a fresh process separately.
 * Bounded: at most SEQUENTIAL + 8 × PER_CLIENT measured calls per mode per round, each phase capped at 30 s.
 */
import { spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { HttpClientTransport } from "../src/upstreams/http-client-transport.ts";
import { WsClientTransport } from "../src/upstreams/ws-client-transport.ts";
import type { Exposed } from "../src/cli/translate-serve.ts";
import { stdioServerCommand } from "../test/fixtures/servers.ts";
import { transportFloor } from "./floor.ts";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const PER_CLIENT = Number(process.env.BENCH_PER_CLIENT ?? 60);
const CLIENTS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const CAP_MS = 30_000;
/** Calls measured on a fresh process before any warm-up (V8 has not optimised the path yet). */
const COLD = 300;
const bin = new URL("../bin/gateway.mjs", import.meta.url).pathname;
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

type Connect = () => Promise<Client>;
/** The SDK clients pass one long-lived signal to every fetch; lift its listener limit (see src/upstreams/transports.ts). */
const quietFetch: typeof fetch = (input, init) => {
  if (init?.signal) setMaxListeners(0, init.signal);
  return fetch(input, init);
};
const call = (client: Client) => client.callTool({ name: "echo", arguments: { text: "bench" } });
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Sequential calls on one client after `warmup` calls; returns calls/s over the measured loop only. */
async function sequential(connect: Connect, times: number[], warmup = WARMUP, count = SEQUENTIAL): Promise<number> {
  const client = await connect();
  for (let i = 0; i < warmup; i++) await call(client);
  const deadline = Date.now() + CAP_MS;
  const loopStart = performance.now();
  let calls = 0;
  for (; calls < count && Date.now() < deadline; calls++) {
    const start = performance.now();
    await call(client);
    times.push(performance.now() - start);
  }
  const rate = calls / ((performance.now() - loopStart) / 1000);
  await client.close();
  return rate;
}

async function concurrent(connect: Connect): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, connect));
  await Promise.all(clients.map(async (c) => { for (let i = 0; i < 10; i++) await call(c); }));
  const deadline = Date.now() + CAP_MS;
  let done = 0;
  const start = performance.now();
  await Promise.all(clients.map(async (c) => { for (let i = 0; i < PER_CLIENT && Date.now() < deadline; i++, done++) await call(c); }));
  const rate = done / ((performance.now() - start) / 1000);
  await Promise.all(clients.map((c) => c.close()));
  return rate;
}

async function main(): Promise<void> {
  const { command, args } = stdioServerCommand({ name: "bench" });
  const translate = spawn(process.execPath, [bin, "translate", "--stdio", [command, ...args].map(quote).join(" "), "--port", "0", "--log-level", "error"], { stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`translate did not start:\n${out}`)), 30_000);
    translate.stderr!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  const direct: Connect = async () => {
    const client = new Client({ name: "bench", version: "1" });
    await client.connect(new StdioClientTransport({ command, args, stderr: "ignore" }));
    return client;
  };
  // The client side of HTTP is not what is measured: the lean node:http transport keeps its cost near stdio's.
  const lean = process.env.BENCH_CLIENT !== "sdk";
  const over = (transport: () => Transport): Connect => async () => {
    const client = new Client({ name: "bench", version: "1" });
    await client.connect(transport());
    return client;
  };
  const bridges: Record<Exposed, Connect> = {
    "streamable-http": over(() => (lean ? new HttpClientTransport(new URL(`${url}/mcp`)) : new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { fetch: quietFetch }))),
    ws: over(() => new WsClientTransport(new URL(`${url.replace(/^http/, "ws")}/ws`))),
    sse: over(() => new SSEClientTransport(new URL(`${url}/sse`), { fetch: quietFetch })),
  };
  const exposed = (process.env.BENCH_EXPOSE ?? "streamable-http,ws,sse").split(",").map((e) => e.trim() as Exposed);
  const modes: [string, Connect][] = [["direct", direct], ...exposed.map((e) => [`via ${e}`, bridges[e]] as [string, Connect])];
  // Cold: the first calls of a fresh process (the translate process has served nothing yet; direct spawns a new child).
  const cold = { direct: [] as number[], translate: [] as number[] };
  await sequential(direct, cold.direct, 0, COLD);
  await sequential(modes[1]![1], cold.translate, 0, COLD);
  const results = new Map(modes.map(([name]) => [name, { times: [] as number[], rates: [] as number[], seqRates: [] as number[] }]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, connect] of modes) {
        const r = results.get(name)!;
        const times: number[] = [];
        r.seqRates.push(await sequential(connect, times));
        r.times.push(...times);
        r.rates.push(await concurrent(connect));
      }
    }
  } finally {
    translate.kill("SIGTERM");
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = new Map(
    [...results].map(([name, r]) => {
      const sorted = [...r.times].sort((a, b) => a - b);
      return [name, { calls: sorted.length, p50: pct(sorted, 50), p99: pct(sorted, 99), seqPerSec: mean(r.seqRates), concurrentPerSec: mean(r.rates) }];
    }),
  );
  const fmt = (n: number) => n.toFixed(3);
  console.log(`streamable HTTP client: ${lean ? "lean node:http transport (BENCH_CLIENT=sdk for the SDK's)" : "SDK StreamableHTTPClientTransport"}; WebSocket: the gateway's ws client; SSE: the SDK's SSEClientTransport`);
  console.log(`tools/call echo, ${ROUNDS} rounds, warm-up ${WARMUP}/client, sequential ${SEQUENTIAL}/round, ${CLIENTS} concurrent clients × ${PER_CLIENT}/round`);
  console.log("mode                  calls   p50 ms   p99 ms   seq calls/s   conc calls/s   adds p50");
  const base = summary.get("direct")!;
  for (const [name, s] of summary) {
    const adds = name === "direct" ? "" : `${fmt(s.p50 - base.p50)} ms`;
    console.log(`${name.padEnd(20)} ${String(s.calls).padStart(6)} ${fmt(s.p50).padStart(8)} ${fmt(s.p99).padStart(8)} ${s.seqPerSec.toFixed(0).padStart(13)} ${s.concurrentPerSec.toFixed(0).padStart(14)} ${adds.padStart(10)}`);
  }
  const [firstName] = modes[1]!;
  const added = summary.get(firstName)!.p50 - base.p50;
  console.log(`translate (${firstName}) adds ${fmt(added)} ms p50 per call, warm (target ≤ 0.5 ms)`);
  const coldP50 = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
  console.log(`cold, first ${COLD} calls of a fresh process: direct ${fmt(coldP50(cold.direct))} ms, ${firstName} ${fmt(coldP50(cold.translate))} ms p50 (adds ${fmt(coldP50(cold.translate) - coldP50(cold.direct))} ms)`);
  if (firstName !== "via streamable-http") return;
  // Same client, minimal responders: what HTTP instead of stdio costs before any bridge is involved.
  const floor = await transportFloor();
  const transport = floor.http.p50 - floor.stdio.p50;
  console.log(`floor: the same client to a minimal responder, HTTP ${fmt(floor.http.p50)} ms vs stdio ${fmt(floor.stdio.p50)} ms p50 (+${fmt(transport)} ms); the bridge's own share ${fmt(added - transport)} ms`);
}

await main();
