/**
 * `node --import jiti/register bench/hop.ts`: the floor of one extra HTTP hop on this machine (see `hopFloor` in
 * floor.ts), and the floor of HTTP vs stdio for an MCP client (`transportFloor`). Prints p50/p99 and ratios.
 */
import { cpuMs } from "./harness.ts";
import { hopFloor, transportFloor } from "./floor.ts";

const N = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const hop = await hopFloor(N);
const cpu0 = cpuMs(hop.proxyPid);
hop.stop();
const f = (n: number) => n.toFixed(3);
console.log(`direct p50 ${f(hop.direct.p50)} ms p99 ${f(hop.direct.p99)} ms`);
console.log(`proxy  p50 ${f(hop.proxied.p50)} ms p99 ${f(hop.proxied.p99)} ms  ratio p50 ${(hop.proxied.p50 / hop.direct.p50).toFixed(2)}× p99 ${(hop.proxied.p99 / hop.direct.p99).toFixed(2)}×`);
console.log(`one extra hop: +${f(hop.proxied.p50 - hop.direct.p50)} ms at p50 (proxy CPU so far ${cpu0} ms)`);
const transport = await transportFloor(Math.min(N, 1000));
console.log(`SDK client → minimal MCP responder: stdio p50 ${f(transport.stdio.p50)} ms, HTTP p50 ${f(transport.http.p50)} ms (+${f(transport.http.p50 - transport.stdio.p50)} ms)`);
process.exit(0);
