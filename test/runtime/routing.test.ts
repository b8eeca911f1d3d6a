import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as HttpV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { startLegacyHttpServer, startModernHttpServer, stdioServerCommand, type LegacyHttpServer, type ModernHttpServer } from "../fixtures/servers.ts";

function text(result: unknown): string {
  const first = (result as CallToolResult).content[0];
  if (first?.type !== "text") throw new Error(`expected text, got ${JSON.stringify(result)}`);
  return first.text;
}

describe("explore", () => {
  let gw: Gateway;
  let url: string;
  let close: () => Promise<void>;
  let lh: LegacyHttpServer;
  let mh: ModernHttpServer;
  beforeAll(async () => {
    lh = await startLegacyHttpServer({ name: "lh" });
    mh = await startModernHttpServer({ name: "mh" });
    gw = await createGateway(
      {
        log: { level: "debug" },
        upstreams: {
          lh: { type: "streamable-http", url: lh.url },
          mh: { type: "streamable-http", url: mh.url },
          io: { type: "stdio", ...stdioServerCommand({ name: "io" }) },
        },
      },
      { log: createLogger("debug") },
    );
    const s = await gw.listen({ port: 0 });
    url = `${s.url}/mcp`;
    close = s.close;
  });
  afterAll(async () => {
    await gw?.close();
    await lh?.close();
    await mh?.close();
  });
  it("works", async () => {
    console.log(JSON.stringify(gw.health(), null, 1));
    for (const pfx of ["lh", "mh", "io"]) {
      const c1 = new ClientV1({ name: "a", version: "1" }, { capabilities: { sampling: {} } });
      c1.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: "m", role: "assistant", content: { type: "text", text: "from-A" } }));
      await c1.connect(new HttpV1(new URL(url)));
      const t0 = Date.now();
      try {
        console.log(pfx, "v1", text(await c1.callTool({ name: `${pfx}__sample`, arguments: { prompt: "p" } })), Date.now() - t0);
      } catch (e) { console.log(pfx, "v1 err", String(e)); }
      const prog: unknown[] = [];
      console.log(pfx, "v1 slow", text(await c1.callTool({ name: `${pfx}__slow`, arguments: { steps: 5, ms: 10 } }, undefined, { onprogress: (p) => prog.push(p) })), prog.length);
      await c1.close();
      const c2 = new ClientV2({ name: "b", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} } });
      c2.setRequestHandler("sampling/createMessage", async () => ({ model: "m", role: "assistant", content: { type: "text", text: "from-B" } }));
      await c2.connect(new HttpV2(new URL(url)));
      console.log("era", c2.getProtocolEra(), c2.getNegotiatedProtocolVersion());
      try {
        console.log(pfx, "v2", text(await c2.callTool({ name: `${pfx}__sample`, arguments: { prompt: "p" } })));
      } catch (e) { console.log(pfx, "v2 err", String(e)); }
      const prog2: unknown[] = [];
      console.log(pfx, "v2 slow", text(await c2.callTool({ name: `${pfx}__slow`, arguments: { steps: 5, ms: 10 } }, { onprogress: (p) => prog2.push(p) })), prog2.length);
      await c2.close();
    }
  });
});
