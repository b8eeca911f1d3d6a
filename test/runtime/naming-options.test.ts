import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError, createGateway } from "../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

let one: LegacyHttpServer;
let two: LegacyHttpServer;

beforeAll(async () => {
  [one, two] = await Promise.all([startLegacyHttpServer({ name: "one" }), startLegacyHttpServer({ name: "two" })]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

async function toolNames(config: Parameters<typeof createGateway>[0]): Promise<string[]> {
  const gw = await createGateway(config);
  const { url } = await gw.listen({ port: 0 });
  const client = new V1Client({ name: "n", version: "1" });
  try {
    await client.connect(new V1HttpTransport(new URL(`${url}/mcp`)));
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
    await gw.close();
  }
}

describe("naming options", () => {
  it("proxies a single upstream transparently with prefix: false", async () => {
    const names = await toolNames({ log: { level: "silent" }, upstreams: { one: { type: "streamable-http", url: one.url, prefix: false } } });
    expect(names).toContain("echo");
    expect(names).not.toContain("one__echo");
  });

  it("renames the prefix and uses the configured separator", async () => {
    const names = await toolNames({
      log: { level: "silent" },
      naming: { separator: "-" },
      upstreams: { one: { type: "streamable-http", url: one.url, prefix: "first" } },
    });
    expect(names).toContain("first-echo");
  });

  it("refuses to start when two upstreams map a tool to the same name, naming both", async () => {
    const attempt = createGateway({
      log: { level: "silent" },
      upstreams: {
        one: { type: "streamable-http", url: one.url, prefix: false },
        two: { type: "streamable-http", url: two.url, prefix: false },
      },
    });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe("NAME_COLLISION");
    expect((error as Error).message).toMatch(/"echo" is claimed by upstream "one" \(echo\) and upstream "two" \(echo\)/);
  });
});
