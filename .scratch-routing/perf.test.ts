import { it } from "vitest";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as HttpTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createGateway } from "../src/runtime/gateway.ts";
import { createLogger } from "../src/_utils/logger.ts";
import { startLegacyHttpServer } from "../test/fixtures/servers.ts";

async function run(url: string, label: string) {
  let t = Date.now();
  const list = await Promise.all(Array.from({ length: 50 }, async () => { const c = new ClientV1({ name: "x", version: "1" }); const tr = new HttpTransportV1(new URL(url)); await c.connect(tr); return { c, tr }; }));
  const tConnect = Date.now() - t; t = Date.now();
  await Promise.all(list.map(({ c }) => Promise.all(Array.from({ length: 20 }, (_, i) => c.callTool({ name: label, arguments: { text: `x${i}` } })))));
  const tCalls = Date.now() - t; t = Date.now();
  await Promise.all(list.map(async ({ c, tr }) => { await tr.terminateSession(); await c.close(); }));
  console.log(label, "connect", tConnect, "calls", tCalls, "close", Date.now() - t);
}
it("perf", async () => {
  const lh = await startLegacyHttpServer({ name: "lh" });
  await run(lh.url, "echo");
  const gw = await createGateway({ upstreams: { lh: { type: "streamable-http", url: lh.url } } }, { log: createLogger("silent") });
  const s = await gw.listen({ port: 0 });
  await run(`${s.url}/mcp`, "lh__echo");
  await run(`${s.url}/mcp`, "lh__echo");
  // sequential single client
  const c = new ClientV1({ name: "x", version: "1" }); await c.connect(new HttpTransportV1(new URL(`${s.url}/mcp`)));
  let t = Date.now(); for (let i = 0; i < 200; i++) await c.callTool({ name: "lh__echo", arguments: { text: "a" } }); console.log("200 sequential via gw", Date.now() - t);
  const d = new ClientV1({ name: "x", version: "1" }); await d.connect(new HttpTransportV1(new URL(lh.url)));
  t = Date.now(); for (let i = 0; i < 200; i++) await d.callTool({ name: "echo", arguments: { text: "a" } }); console.log("200 sequential direct", Date.now() - t);
  await c.close(); await d.close();
  await gw.close(); await lh.close();
}, 120000);
