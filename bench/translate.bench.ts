/**
 * `npm run bench:translate`: the same stdio server called directly over stdio and through `gateway translate`
 * (streamable HTTP, /mcp), in one run. Rounds alternate direct/translated to spread machine noise over both.
 * Prints sequential p50/p99, sequential calls/s, calls/s at 8 concurrent clients, and the added p50 per call.
 * Bounded: at most SEQUENTIAL + 8 × PER_CLIENT measured calls per mode per round, each phase capped at 30 s.
 */
import { spawn } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { HttpClientTransport } from "../src/upstreams/http-client-transport.ts";
import { stdioServerCommand } from "../test/fixtures/servers.ts";
import { transportFloor } from "./floor.ts";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const PER_CLIENT = Number(process.env.BENCH_PER_CLIENT ?? 60);
const CLIENTS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = 50;
const CAP_MS = 30_000;
const bin = new URL("../bin/gateway.mjs", import.meta.url).pathname;
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

type Connect = () => Promise<Client>;
const call = (client: Client) => client.callTool({ name: "echo", arguments: { text: "bench" } });
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function sequential(connect: Connect, times: number[]): Promise<void> {
  const client = await connect();
  for (let i = 0; i < WARMUP; i++) await call(client);
  const deadline = Date.now() + CAP_MS;
  for (let i = 0; i < SEQUENTIAL && Date.now() < deadline; i++) {
    const start = performance.now();
    await call(client);
    times.push(performance.now() - start);
  }
  await client.close();
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
  const bridged: Connect = async () => {
    const client = new Client({ name: "bench", version: "1" });
    await client.connect(lean ? new HttpClientTransport(new URL(`${url}/mcp`)) : new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    return client;
  };
  const results = { direct: { times: [] as number[], rates: [] as number[], seqRates: [] as number[] }, translate: { times: [] as number[], rates: [] as number[], seqRates: [] as number[] } };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, connect] of [["direct", direct], ["translate", bridged]] as const) {
        const times: number[] = [];
        const start = performance.now();
        await sequential(connect, times);
        results[name].seqRates.push(times.length / ((performance.now() - start) / 1000));
        results[name].times.push(...times);
        results[name].rates.push(await concurrent(connect));
      }
    }
  } finally {
    translate.kill("SIGTERM");
  }
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, r]) => {
      const sorted = [...r.times].sort((a, b) => a - b);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      return [name, { calls: sorted.length, p50: pct(sorted, 50), p99: pct(sorted, 99), seqPerSec: mean(r.seqRates), concurrentPerSec: mean(r.rates) }];
    }),
  );
  const fmt = (n: number) => n.toFixed(3);
  console.log(`client over HTTP: ${lean ? "lean node:http transport (BENCH_CLIENT=sdk for the SDK's)" : "SDK StreamableHTTPClientTransport"}`);
  console.log(`tools/call echo, ${ROUNDS} rounds, sequential ${SEQUENTIAL}/round, ${CLIENTS} concurrent clients × ${PER_CLIENT}/round`);
  console.log("mode        calls   p50 ms   p99 ms   seq calls/s   conc calls/s");
  for (const [name, s] of Object.entries(summary)) {
    console.log(`${name.padEnd(10)} ${String(s.calls).padStart(6)} ${fmt(s.p50).padStart(8)} ${fmt(s.p99).padStart(8)} ${s.seqPerSec.toFixed(0).padStart(13)} ${s.concurrentPerSec.toFixed(0).padStart(14)}`);
  }
  const added = summary.translate!.p50 - summary.direct!.p50;
  console.log(`translate adds ${fmt(added)} ms p50 per call (target ≤ 0.5 ms)`);
  // Same client, minimal responders: what HTTP instead of stdio costs before any bridge is involved.
  const floor = await transportFloor();
  const transport = floor.http.p50 - floor.stdio.p50;
  console.log(`floor: the same client to a minimal responder, HTTP ${fmt(floor.http.p50)} ms vs stdio ${fmt(floor.stdio.p50)} ms p50 (+${fmt(transport)} ms); the bridge's own share ${fmt(added - transport)} ms`);
}

await main();
