import { it } from "vitest";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from "@modelcontextprotocol/client";
import { StreamableHTTPClientTransport as HttpTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { createGateway } from "../src/runtime/gateway.ts";
import { createLogger } from "../src/_utils/logger.ts";
import { startLegacyHttpServer, startModernHttpServer, stdioServerCommand } from "../test/fixtures/servers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
it("leaks", async () => {
  const lh = await startLegacyHttpServer({ name: "lh" });
  const mh = await startModernHttpServer({ name: "mh" });
  const gw = await createGateway({ upstreams: { lh: { type: "streamable-http", url: lh.url }, mh: { type: "streamable-http", url: mh.url } } }, { log: createLogger("warn") });
  const s = await gw.listen({ port: 0 });
  const url = `${s.url}/mcp`;
  // 1. v1 close without DELETE
  const c = new ClientV1({ name: "x", version: "1" }); await c.connect(new HttpTransportV1(new URL(url)));
  await c.close(); await sleep(300);
  console.log("1. after v1 close without DELETE", gw.stats());
  // 3. v2 client sampling handler throws
  for (const up of ["lh", "mh"]) {
    const v2 = new ClientV2({ name: "y", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} } });
    v2.setRequestHandler("sampling/createMessage", async () => { throw new Error("no llm"); });
    await v2.connect(new HttpV2(new URL(url)));
    const t = Date.now();
    try { console.log(await v2.callTool({ name: `${up}__sample`, arguments: { prompt: "p" } })); } catch (e) { console.log("3.", up, "v2 throw handler ->", String(e), Date.now() - t); }
    await v2.close(); await sleep(200);
    console.log("3.", up, "after v2 handler throws", gw.stats());
  }
  // 4. v1 client handler never answers, client terminates session
  const d = new ClientV1({ name: "x", version: "1" }, { capabilities: { sampling: {} } });
  let got!: () => void; const gotP = new Promise<void>((r) => (got = r));
  d.setRequestHandler(CreateMessageRequestSchema, async () => { got(); return new Promise(() => {}); });
  const dt = new HttpTransportV1(new URL(url)); await d.connect(dt);
  const p = d.callTool({ name: "lh__sample", arguments: { prompt: "p" } }).catch((e) => "err " + String(e));
  await gotP; console.log("4. waiting", gw.stats());
  await dt.terminateSession(); await d.close(); console.log("4. result", await p); await sleep(300);
  console.log("4. after DELETE mid-sampling", gw.stats(), "upstream lh sessions", lh.sessions());
  // 7. v1 client aborts during sampling
  const e = new ClientV1({ name: "x", version: "1" }, { capabilities: { sampling: {} } });
  let got2!: () => void; const got2P = new Promise<void>((r) => (got2 = r));
  e.setRequestHandler(CreateMessageRequestSchema, async () => { got2(); return new Promise(() => {}); });
  const et = new HttpTransportV1(new URL(url)); await e.connect(et);
  const ac = new AbortController();
  const p2 = e.callTool({ name: "lh__sample", arguments: { prompt: "p" } }, undefined, { signal: ac.signal }).catch((err) => "err " + String(err));
  await got2P; ac.abort("bye"); console.log("7. result", await p2); await sleep(300);
  console.log("7. after abort mid-sampling", gw.stats());
  // 8. v2 modern client: autoFulfill false → manual; never retries
  const v3 = new ClientV2({ name: "y", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} }, inputRequired: { autoFulfill: false } });
  await v3.connect(new HttpV2(new URL(url)));
  try { const r = await v3.callTool({ name: "lh__sample", arguments: { prompt: "p" } }, { allowInputRequired: true } as never); console.log("8. got", JSON.stringify(r).slice(0, 200)); } catch (err) { console.log("8. err", String(err)); }
  await v3.close(); await sleep(200);
  console.log("8. after v2 abandons input_required", gw.stats());
  await et.terminateSession().catch(() => {}); await e.close();
  await gw.close(); await lh.close(); await mh.close();
}, 60000);
