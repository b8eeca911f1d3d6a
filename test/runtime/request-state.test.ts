import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { passthroughSchema } from "../../src/_utils/passthrough.ts";
import { startLegacyHttpServer, startModernHttpServer, type LegacyHttpServer, type ModernHttpServer } from "../fixtures/servers.ts";
import { firstText } from "../_helpers.ts";

let gw: Gateway;
let url: string;
let legacy: LegacyHttpServer;
let modern: ModernHttpServer;

beforeAll(async () => {
  [legacy, modern] = await Promise.all([startLegacyHttpServer({ name: "old" }), startModernHttpServer({ name: "new" })]);
  gw = await createGateway({
    log: { level: "silent" },
    upstreams: { old: { type: "streamable-http", url: legacy.url }, new: { type: "streamable-http", url: modern.url } },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([legacy?.close(), modern?.close()]);
});

describe("multi-round-trip requestState", () => {
  for (const tool of ["old__sample", "new__sample"]) {
    it(`resumes ${tool} once per state and refuses a replayed state`, async () => {
      const client = new Client({ name: "manual", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} } });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      try {
        const call = (extra: Record<string, unknown> = {}) =>
          client.request({ method: "tools/call", params: { name: tool, arguments: { prompt: "hi" }, ...extra } }, passthroughSchema, { allowInputRequired: true });
        const first = await call();
        expect(first.resultType).toBe("input_required");
        const keys = Object.keys(first.inputRequests as object);
        expect(keys.length).toBe(1);
        const answer = { [keys[0]!]: { role: "assistant", content: { type: "text", text: "manual" }, model: "m" } };
        const retry = { inputResponses: answer, requestState: first.requestState };
        const done = await call(retry);
        expect(firstText(done)).toBe("sampled:manual");
        const replay = await call(retry).then(
          (r) => r,
          (e: Error) => e,
        );
        expect(replay).toBeInstanceOf(Error);
        expect((replay as Error).message).toMatch(/requestState/);
        expect(gw.stats().inputFlows).toBe(0);
      } finally {
        await client.close();
      }
    });
  }

  it("refuses a requestState forged or bound to another tool", async () => {
    const client = new Client({ name: "forger", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {} } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    try {
      const first = await client.request({ method: "tools/call", params: { name: "old__sample", arguments: { prompt: "x" } } }, passthroughSchema, { allowInputRequired: true });
      const misuse = (name: string, requestState: unknown) =>
        client
          .request({ method: "tools/call", params: { name, arguments: { text: "x" }, inputResponses: {}, requestState } }, passthroughSchema, { allowInputRequired: true })
          .then(
            (r) => r,
            (e: Error) => e,
          );
      expect(await misuse("old__echo", first.requestState)).toBeInstanceOf(Error);
      expect(await misuse("old__sample", "v1.forged.state")).toBeInstanceOf(Error);
    } finally {
      await client.close();
    }
  });
});
