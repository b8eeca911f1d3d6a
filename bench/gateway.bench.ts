/**
 * `npm run bench`: the same tools/call load sent directly to an upstream and through the gateway, in one run.
 * Upstream, gateway and load generator are separate processes; everything is on 127.0.0.1.
 * Prints p50/p99 (sequential), calls/s at 16 concurrent sessions, gateway RSS, and gateway/direct ratios.
 */
import { rssMb, startGateway, startUpstream, v1Http, v1Stdio, v2Http, type CallerFactory } from "./harness.ts";
import { stdioServerCommand } from "../test/fixtures/servers.ts";
import { hopFloor } from "./floor.ts";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 1000);
const WARMUP = 100;
const SESSIONS = 16;
const PER_SESSION = Number(process.env.BENCH_PER_SESSION ?? 250);
const TIME_CAP_MS = 60_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

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
    await gw.stop();
  }
}

const rows: Row[] = [];
// The floor: what one bare HTTP hop (a do-nothing node:http proxy) adds on this machine right now.
const hop = await hopFloor();
hop.stop();
const hopMs = hop.proxied.p50 - hop.direct.p50;

// BENCH_ONLY=legacy,modern,stdio,stdio-per-session picks rows (default: all).
const only = new Set((process.env.BENCH_ONLY ?? "legacy,modern,stdio,stdio-per-session").split(","));
const legacy = await startUpstream("legacy");
const modern = await startUpstream("modern");
try {
  if (only.has("legacy")) {
    rows.push(await scenario("streamable HTTP upstream (SDK v1), v1 client", v1Http(legacy.match), (u) => v1Http(`${u}/mcp`), { type: "streamable-http", url: legacy.match }));
  }
  if (only.has("modern")) {
    rows.push(await scenario("streamable HTTP upstream (SDK v2, 2026-07-28), v2 client", v2Http(modern.match), (u) => v2Http(`${u}/mcp`), { type: "streamable-http", url: modern.match }));
  }
  if (only.has("stdio")) {
    const stdio = stdioServerCommand({ name: "bench" });
    rows.push(await scenario("stdio upstream (SDK v1), v1 client", v1Stdio(), (u) => v1Http(`${u}/mcp`), { type: "stdio", command: stdio.command, args: stdio.args }));
  }
  if (only.has("stdio-per-session")) {
    // Direct, each of the 16 sessions has its own child (a stdio server serves one client): so does this gateway.
    const stdio = stdioServerCommand({ name: "bench" });
    const upstream = { type: "stdio", command: stdio.command, args: stdio.args, isolation: "per-session" };
    rows.push(await scenario("stdio upstream (SDK v1), isolation per-session, v1 client", v1Stdio(), (u) => v1Http(`${u}/mcp`), upstream));
  }
} finally {
  legacy.child.kill("SIGTERM");
  modern.child.kill("SIGTERM");
}

const f = (n: number) => n.toFixed(2);
console.log(`\nfloor: one bare HTTP hop (do-nothing node:http proxy) adds ${hopMs.toFixed(3)} ms at p50 (${f(hop.direct.p50)} → ${f(hop.proxied.p50)} ms)`);
console.log(`\nMCP gateway benchmark — ${SEQUENTIAL} sequential calls, ${SESSIONS} sessions × ${PER_SESSION} calls, median of ${ROUNDS} interleaved rounds, node ${process.version}\n`);
for (const r of rows) {
  console.log(r.scenario);
  console.log(`  p50  direct ${f(r.direct.p50)} ms   gateway ${f(r.gateway.p50)} ms   ratio ${f(r.gateway.p50 / r.direct.p50)}×  (target ≤ 1.15×; a bare HTTP hop alone: ${f((r.direct.p50 + hopMs) / r.direct.p50)}×)`);
  console.log(`  p99  direct ${f(r.direct.p99)} ms   gateway ${f(r.gateway.p99)} ms   ratio ${f(r.gateway.p99 / r.direct.p99)}×  (target ≤ 1.30×)`);
  console.log(`  rps  direct ${r.direct.rps.toFixed(0)}   gateway ${r.gateway.rps.toFixed(0)}   ratio ${f(r.gateway.rps / r.direct.rps)}×  (target ≥ 0.80×)`);
  console.log(`  gateway RSS after load: ${r.rss} MB\n`);
}
process.exit(0);
