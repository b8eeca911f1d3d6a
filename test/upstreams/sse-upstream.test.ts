/**
 * A legacy HTTP+SSE upstream (SDK v1 fixture) under sustained load through a real gateway: the SDK's SSE client
 * transport passes one long-lived AbortSignal to every POST, and undici keeps a listener on it per request until GC.
 * Without the gateway lifting the limit on that signal, Node warns MaxListenersExceeded once more than 1 500 of those are waiting for GC.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { HttpClientTransport } from "../../src/upstreams/http-client-transport.ts";
import { firstText } from "../_helpers.ts";
import { startLegacySseServer, type LegacySseServer } from "../fixtures/servers.ts";

describe("SSE upstream", () => {
  let upstream: LegacySseServer;
  let gw: Gateway;
  let client: ClientV1;

  beforeAll(async () => {
    upstream = await startLegacySseServer({ name: "sse" });
    gw = await createGateway({ upstreams: { sse: { type: "sse", url: upstream.url } } }, { log: createLogger("silent") });
    // The test's own client must not use fetch with a shared signal either (the SDK v1 HTTP client does): node:http.
    client = new ClientV1({ name: "load", version: "1" });
    await client.connect(new HttpClientTransport(new URL(`${(await gw.listen({ port: 0 })).url}/mcp`)));
  });

  afterAll(async () => {
    await client?.close();
    await gw?.close();
    await upstream?.close();
  });

  it("serves 4 000 sequential calls without a MaxListenersExceeded warning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 4000; i++) {
        const result = await client.callTool({ name: "sse__echo", arguments: { text: `n${i}` } });
        if (i % 400 === 0) expect(firstText(result)).toContain(`n${i}`);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
  }, 60_000);
});
