/**
 * `node --import jiti/register bench/profile.ts <legacy|modern|stdio> [--cpu-prof]`: gateway CPU time per tools/call.
 * CPU (from /proc) is far less sensitive to a noisy machine than latency; with `--cpu-prof` the gateway writes a
 * V8 profile to `BENCH_PROF_DIR` (summarise it with bench/profile-summary.ts).
 */
import { cpuMs, startGateway, startUpstream, v1Http, v2Http, type CallerFactory } from "./harness.ts";
import { stdioServerCommand } from "../test/fixtures/servers.ts";

const kind = (process.argv[2] ?? "legacy") as "legacy" | "modern" | "stdio";
const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const profile = process.argv.includes("--cpu-prof");
const dir = process.env.BENCH_PROF_DIR ?? "/tmp/gw-prof";

const upstream = kind === "stdio" ? undefined : await startUpstream(kind);
const config = upstream ? { type: "streamable-http", url: upstream.match } : { type: "stdio", ...stdioServerCommand({ name: "bench" }) };
const gw = await startGateway(config, profile ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : []);
const factory: CallerFactory = kind === "modern" ? v2Http(`${gw.url}/mcp`) : v1Http(`${gw.url}/mcp`);
const pid = gw.child.pid!;

async function measure(label: string, sessions: number): Promise<void> {
  const callers = await Promise.all(Array.from({ length: sessions }, () => factory()));
  const per = Math.ceil(CALLS / sessions);
  await Promise.all(callers.map(async (c) => { for (let i = 0; i < 50; i++) await c.call(); }));
  const cpu0 = cpuMs(pid);
  const upCpu0 = upstream ? cpuMs(upstream.child.pid!) : 0;
  const t0 = performance.now();
  await Promise.all(callers.map(async (c) => { for (let i = 0; i < per; i++) await c.call(); }));
  const wall = performance.now() - t0;
  const calls = per * sessions;
  const up = upstream ? ` upstream ${((cpuMs(upstream.child.pid!) - upCpu0) / calls).toFixed(3)} ms/call` : "";
  console.log(`${kind} ${label}: gateway CPU ${((cpuMs(pid) - cpu0) / calls).toFixed(3)} ms/call${up}, ${(calls / (wall / 1000)).toFixed(0)} calls/s`);
  await Promise.all(callers.map((c) => c.close()));
}

try {
  await measure("sequential", 1);
  await measure("16 sessions", 16);
} finally {
  await gw.stop();
  upstream?.child.kill("SIGTERM");
}
process.exit(0);
