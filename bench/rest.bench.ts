/**
 * REST call overhead: the same GET to a JSON API on 127.0.0.1, sent (a) with global fetch (keep-alive),
 * (b) with the SSRF-guarded fetch (one connection per request, as the REST upstream sends it), (c) through
 * `RestUpstream.request` in process, and (d) through the gateway from an SDK v2 client over streamable HTTP.
 *   node --import jiti/register bench/rest.bench.ts      (BENCH_CALLS, default 1000, at most 2000)
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { resolveConfig } from "../src/config/resolve.ts";
import type { ResolvedRestUpstream } from "../src/config/types.ts";
import { createGateway } from "../src/runtime/gateway.ts";
import { createSafeFetch } from "../src/net/safe-fetch.ts";
import { RestUpstream } from "../src/upstreams/rest/rest-upstream.ts";
import { createLogger } from "../src/_utils/logger.ts";

const CALLS = Math.min(2000, Number(process.env.BENCH_CALLS ?? 1000));
const WARMUP = 50;

async function measure(label: string, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await call();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(`${label.padEnd(34)} mean ${mean.toFixed(3)} ms  p50 ${p(0.5)}  p99 ${p(0.99)}  (${CALLS} calls)`);
  // The median: on a shared machine the mean is dominated by a few scheduling stalls.
  return times[Math.floor(times.length / 2)]!;
}

const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ city: req.url, temp: 21.5, days: [1, 2, 3] }));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const rest = { api: { baseUrl: base, retries: false as const, tools: { forecast: { method: "GET" as const, path: "/forecast/{city}", query: ["days"] } } } };

const direct = await measure("global fetch (keep-alive)", async () => (await fetch(`${base}/forecast/Oslo?days=3`)).json());
const safeFetch = createSafeFetch({ allow: ["127.0.0.1"] });
const guarded = await measure("safe fetch (new connection)", async () => (await safeFetch(`${base}/forecast/Oslo?days=3`)).json());

const config = resolveConfig({ rest });
const upstream = new RestUpstream({ config: config.upstreams[0] as ResolvedRestUpstream, log: createLogger("silent") });
await upstream.start();
const message = { method: "tools/call", params: { name: "forecast", arguments: { city: "Oslo", days: 3 } } };
const inProcess = await measure("RestUpstream.request (in process)", () => upstream.request(message));
await upstream.close();

const gw = await createGateway({ log: { level: "silent" }, rest }, { log: createLogger("silent") });
const listener = await gw.listen({ port: 0 });
const client = new Client({ name: "bench", version: "1" }, { versionNegotiation: { mode: "auto" } });
await client.connect(new StreamableHTTPClientTransport(new URL(`${listener.url}/mcp`)));
const viaGateway = await measure("MCP client → gateway → API", () => client.callTool({ name: "api__forecast", arguments: { city: "Oslo", days: 3 } }));
await client.close();
await gw.close();
server.close();

console.log(`\nREST upstream overhead over its own fetch: ${(inProcess - guarded).toFixed(3)} ms/call (p50)`);
console.log(`full MCP round trip over direct keep-alive fetch: ${(viaGateway - direct).toFixed(3)} ms/call at p50 (x${(viaGateway / direct).toFixed(1)})`);
