/**
 * What the catalog features cost per call: the same tools/call (SDK v1 client, 2025-11-25 session, one upstream on
 * 127.0.0.1) through (a) a plain gateway, (b) a gateway with the admin API on (registry DB + per-entry metrics),
 * (c) a virtual server view with a rename and fixed arguments, and (d) with a 20-rule policy, interleaved
 * round by round so machine noise hits all alike. Also: a 500-tool tools/list with and without the policy.
 *   npm run bench:catalog      (BENCH_CALLS per variant per round, default 200; 8 rotated rounds)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createGateway, type GatewayConfig } from "../src/index.ts";
import { startLegacyHttpServer } from "../test/fixtures/servers.ts";

const CALLS = Math.min(2000, Number(process.env.BENCH_CALLS ?? 200));
const ROUNDS = 2;
const upstream = await startLegacyHttpServer({ name: "bench", extraTools: 500 });
const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
const rules = Array.from({ length: 19 }, (_, i) => ({ name: `r${i}`, when: { subjects: [`user-${i}`] }, allow: { names: [`bench__tool_${i}*`] } }));
const base: GatewayConfig = { log: { level: "silent" }, upstreams: { bench: { type: "streamable-http", url: upstream.url } } };

const variants: { label: string; config: GatewayConfig; path: string; tool: string; args: Record<string, unknown> }[] = [
  { label: "plain gateway", config: base, path: "/mcp", tool: "bench__add", args: { a: 1, b: 2 } },
  { label: "admin on (DB + metrics)", config: { ...base, admin: { token: "bench-token-0123456789" }, storage: { db: `sqlite:${join(dir, "b.sqlite")}` } }, path: "/mcp", tool: "bench__add", args: { a: 1, b: 2 } },
  { label: "virtual server (rename+fixed)", config: { ...base, servers: { s: { tools: [{ name: "bench__add", rename: "add", fixed: { b: 2 } }] } } }, path: "/servers/s/mcp", tool: "add", args: { a: 1 } },
  { label: "policy, 20 rules", config: { ...base, policy: { default: "allow", rules: [...rules, { name: "deny-slow", deny: { names: ["*__slow"] } }] } }, path: "/mcp", tool: "bench__add", args: { a: 1, b: 2 } },
];

const started = await Promise.all(
  variants.map(async (v) => {
    const gw = await createGateway(v.config);
    const { url } = await gw.listen({ port: 0 });
    const client = new Client({ name: "bench", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}${v.path}`)));
    return { ...v, gw, client, samples: [] as number[] };
  }),
);

for (let round = 0; round < ROUNDS * started.length; round++) {
  // Each round starts with another variant, so none always runs first (colder) or last.
  for (const v of [...started.slice(round % started.length), ...started.slice(0, round % started.length)]) {
    for (let i = 0; i < 30; i++) await v.client.callTool({ name: v.tool, arguments: v.args });
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await v.client.callTool({ name: v.tool, arguments: v.args });
      v.samples.push(performance.now() - t);
    }
  }
}

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const plain = pct(started[0]!.samples, 0.5);
console.log(`tools/call, ${ROUNDS * started.length} rotated rounds × ${CALLS} sequential calls per variant`);
for (const v of started) {
  const p50 = pct(v.samples, 0.5);
  console.log(`  ${v.label.padEnd(32)} p50 ${p50.toFixed(3)} ms  p99 ${pct(v.samples, 0.99).toFixed(3)} ms  (${((p50 / plain - 1) * 100).toFixed(1)}% vs plain)`);
}

const listTimes = async (v: (typeof started)[number]) => {
  const xs: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await v.client.listTools();
    xs.push(performance.now() - t);
  }
  return pct(xs, 0.5);
};
console.log(`tools/list of ${(await started[0]!.client.listTools()).tools.length} tools, p50: plain ${(await listTimes(started[0]!)).toFixed(3)} ms, with policy ${(await listTimes(started[3]!)).toFixed(3)} ms`);

for (const v of started) {
  await v.client.close();
  await v.gw.close();
}
await upstream.close();
rmSync(dir, { recursive: true, force: true });
