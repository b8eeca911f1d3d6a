/**
 * `node --import jiti/register bench/plugins.bench.ts`: what the plugin pipeline adds to one tools/call.
 * Same gateway, same upstream (a stdio child), same run: no plugins vs all built-ins (OTel with no SDK registered).
 * Calls go through `gateway.fetch()` on a 2025-era session, so client-side noise stays out of the numbers.
 */
import { createGateway, type GatewayConfig, type Gateway } from "../src/index.ts";
import { stdioServerCommand } from "../test/fixtures/servers.ts";
import { piiFilter } from "../plugins/pii-filter/index.ts";
import { rateLimit } from "../plugins/rate-limit/index.ts";
import { otel } from "../plugins/otel/index.ts";
import { auditLog } from "../examples/plugin-audit-log/index.ts";

const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const ROUNDS = 3;

const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", host: "127.0.0.1" };

async function session(gw: Gateway): Promise<(id: number) => Promise<void>> {
  const init = await gw.fetch(
    new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1" } } }),
    }),
  );
  const sid = init.headers.get("mcp-session-id")!;
  await init.text();
  const sessionHeaders = { ...headers, "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" };
  await (await gw.fetch(new Request("http://127.0.0.1/mcp", { method: "POST", headers: sessionHeaders, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) }))).text();
  return async (id) => {
    const response = await gw.fetch(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: sessionHeaders,
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "up__echo", arguments: { text: "contact me at jane@example.com" } } }),
      }),
    );
    const body = await response.text();
    if (!body.includes('"result"')) throw new Error(`unexpected response: ${body.slice(0, 200)}`);
  };
}

async function measure(plugins: GatewayConfig["plugins"]): Promise<number[]> {
  const { command, args } = stdioServerCommand({ name: "bench" });
  const gw = await createGateway({ log: { level: "silent" }, plugins, upstreams: { up: { type: "stdio", command, args } } });
  try {
    const call = await session(gw);
    for (let i = 1; i <= 200; i++) await call(i);
    const times: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = performance.now();
      await call(1000 + i);
      times.push(performance.now() - start);
    }
    return times.sort((a, b) => a - b);
  } finally {
    await gw.close();
  }
}

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const all = () => [piiFilter(), rateLimit({ limit: 1_000_000, windowMs: 60_000 }), otel(), auditLog({ write: () => {} })];

const results: Record<string, { p50: number[]; p99: number[] }> = { none: { p50: [], p99: [] }, all: { p50: [], p99: [] } };
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, plugins] of [["none", []], ["all", all()]] as const) {
    const times = await measure([...plugins]);
    results[label]!.p50.push(p(times, 0.5));
    results[label]!.p99.push(p(times, 0.99));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const none = { p50: median(results.none!.p50), p99: median(results.none!.p99) };
const withAll = { p50: median(results.all!.p50), p99: median(results.all!.p99) };
console.log(`\nPlugin pipeline — ${CALLS} sequential tools/call per run, ${ROUNDS} interleaved runs, median of runs, node ${process.version}`);
console.log(`  no plugins:          p50 ${none.p50.toFixed(3)} ms   p99 ${none.p99.toFixed(3)} ms`);
console.log(`  pii + rate-limit + otel (no SDK) + audit-log: p50 ${withAll.p50.toFixed(3)} ms   p99 ${withAll.p99.toFixed(3)} ms`);
console.log(`  added by the pipeline: p50 ${(withAll.p50 - none.p50).toFixed(3)} ms, p99 ${(withAll.p99 - none.p99).toFixed(3)} ms`);
process.exit(0);
