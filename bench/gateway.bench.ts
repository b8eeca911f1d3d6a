/**
 * `npm run bench`: the same tools/call load sent directly to an upstream and through the gateway, in one run.
 * Upstream, gateway and load generator are separate processes; everything is on 127.0.0.1.
 * Prints p50/p99 (sequential), calls/s at 16 concurrent sessions, gateway RSS, and gateway/direct ratios.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { stdioServerCommand } from "../test/fixtures/servers.ts";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 1000);
const WARMUP = 100;
const SESSIONS = 16;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 250);
const TIME_CAP_MS = 60_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const root = new URL("..", import.meta.url).pathname;

interface Caller {
  call(): Promise<unknown>;
  close(): Promise<void>;
}
type CallerFactory = () => Promise<Caller>;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function sequential(factory: CallerFactory): Promise<{ p50: number; p99: number }> {
  const caller = await factory();
  try {
    for (let i = 0; i < WARMUP; i++) await caller.call();
    const times: number[] = [];
    const deadline = Date.now() + TIME_CAP_MS;
    for (let i = 0; i < SEQUENTIAL && Date.now() < deadline; i++) {
      const start = performance.now();
      await caller.call();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  } finally {
    await caller.close();
  }
}

async function concurrent(factory: CallerFactory): Promise<number> {
  const callers = await Promise.all(Array.from({ length: SESSIONS }, () => factory()));
  try {
    await Promise.all(callers.map(async (c) => { for (let i = 0; i < 20; i++) await c.call(); }));
    const deadline = Date.now() + TIME_CAP_MS;
    let done = 0;
    const start = performance.now();
    await Promise.all(
      callers.map(async (c) => {
        for (let i = 0; i < PER_SESSION && Date.now() < deadline; i++) {
          await c.call();
          done++;
        }
      }),
    );
    return done / ((performance.now() - start) / 1000);
  } finally {
    await Promise.all(callers.map((c) => c.close()));
  }
}

const echo = { name: "echo", arguments: { text: "bench" } };

function v1Http(url: string, tool = "echo"): CallerFactory {
  return async () => {
    const client = new V1Client({ name: "bench", version: "1" });
    await client.connect(new V1HttpTransport(new URL(url)));
    return { call: () => client.callTool({ ...echo, name: tool }), close: () => client.close() };
  };
}

function v2Http(url: string, tool = "echo"): CallerFactory {
  return async () => {
    const client = new Client({ name: "bench", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return { call: () => client.callTool({ ...echo, name: tool }), close: () => client.close() };
  };
}

function v1Stdio(): CallerFactory {
  return async () => {
    const { command, args } = stdioServerCommand({ name: "bench" });
    const client = new V1Client({ name: "bench", version: "1" });
    await client.connect(new V1StdioTransport({ command, args, stderr: "ignore" }));
    return { call: () => client.callTool(echo), close: () => client.close() };
  };
}

/** Start a child that prints a line matching `pattern`; resolve with the match. */
function startChild(command: string, args: string[], pattern: RegExp, stream: "stdout" | "stderr"): Promise<{ child: ChildProcess; match: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${pattern} from ${args.join(" ")}:\n${buffer}`)), 30_000);
    child[stream]!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = pattern.exec(buffer);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m[1]! });
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${buffer}`)));
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function startGateway(upstream: Record<string, unknown>): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const file = join(dir, "gateway.config.mjs");
  writeFileSync(file, `export default ${JSON.stringify({ log: { level: "warn" }, upstreams: { up: { ...upstream, prefix: false } } })};\n`);
  const { child, match } = await startChild(process.execPath, ["bin/gateway.mjs", "start", "--config", file, "--port", "0"], /MCP gateway on (http:\/\/[0-9.:]+)/, "stderr");
  return { child, url: match, dir };
}

interface Row {
  scenario: string;
  direct: { p50: number; p99: number; rps: number };
  gateway: { p50: number; p99: number; rps: number };
  rss: number;
}

async function scenario(name: string, direct: CallerFactory, viaGateway: (url: string) => CallerFactory, upstream: Record<string, unknown>): Promise<Row> {
  const gw = await startGateway(upstream);
  try {
    const through = viaGateway(gw.url);
    // Interleave direct and gateway runs so both see the same machine state; report the median of the rounds.
    const d: { p50: number; p99: number }[] = [];
    const g: { p50: number; p99: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      d.push(await sequential(direct));
      g.push(await sequential(through));
    }
    const drps: number[] = [];
    const grps: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      drps.push(await concurrent(direct));
      grps.push(await concurrent(through));
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return {
      scenario: name,
      direct: { p50: med(d.map((x) => x.p50)), p99: med(d.map((x) => x.p99)), rps: med(drps) },
      gateway: { p50: med(g.map((x) => x.p50)), p99: med(g.map((x) => x.p99)), rps: med(grps) },
      rss: rssMb(gw.child.pid!),
    };
  } finally {
    gw.child.kill("SIGTERM");
    await new Promise((r) => gw.child.once("exit", r));
    rmSync(gw.dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const legacy = await startChild(process.execPath, ["--import", "jiti/register", "bench/upstream.ts", "legacy"], /(http:\/\/\S+)\n/, "stdout");
const modern = await startChild(process.execPath, ["--import", "jiti/register", "bench/upstream.ts", "modern"], /(http:\/\/\S+)\n/, "stdout");
try {
  rows.push(await scenario("streamable HTTP upstream (SDK v1), v1 client", v1Http(legacy.match), (u) => v1Http(`${u}/mcp`), { type: "streamable-http", url: legacy.match }));
  rows.push(await scenario("streamable HTTP upstream (SDK v2, 2026-07-28), v2 client", v2Http(modern.match), (u) => v2Http(`${u}/mcp`), { type: "streamable-http", url: modern.match }));
  const stdio = stdioServerCommand({ name: "bench" });
  rows.push(await scenario("stdio upstream (SDK v1), v1 client", v1Stdio(), (u) => v1Http(`${u}/mcp`), { type: "stdio", command: stdio.command, args: stdio.args }));
} finally {
  legacy.child.kill("SIGTERM");
  modern.child.kill("SIGTERM");
}

const f = (n: number) => n.toFixed(2);
console.log(`\nMCP gateway benchmark — ${SEQUENTIAL} sequential calls, ${SESSIONS} sessions × ${PER_SESSION} calls, median of ${ROUNDS} interleaved rounds, node ${process.version}\n`);
for (const r of rows) {
  console.log(r.scenario);
  console.log(`  p50  direct ${f(r.direct.p50)} ms   gateway ${f(r.gateway.p50)} ms   ratio ${f(r.gateway.p50 / r.direct.p50)}×  (target ≤ 1.15×)`);
  console.log(`  p99  direct ${f(r.direct.p99)} ms   gateway ${f(r.gateway.p99)} ms   ratio ${f(r.gateway.p99 / r.direct.p99)}×  (target ≤ 1.30×)`);
  console.log(`  rps  direct ${r.direct.rps.toFixed(0)}   gateway ${r.gateway.rps.toFixed(0)}   ratio ${f(r.gateway.rps / r.direct.rps)}×  (target ≥ 0.80×)`);
  console.log(`  gateway RSS after load: ${r.rss} MB\n`);
}
process.exit(0);
