import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, definePlugin, type Gateway, type GatewayConfig, type SessionEvent } from "../../src/index.ts";
import { connectV1, connectV2, firstText } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

let upstream: LegacyHttpServer;
beforeAll(async () => {
  upstream = await startLegacyHttpServer({ name: "plug" });
});
afterAll(() => upstream?.close());

async function withGateway(plugins: GatewayConfig["plugins"], run: (url: string, gw: Gateway) => Promise<void>): Promise<void> {
  const gw = await createGateway({ log: { level: "silent" }, plugins, upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  try {
    await run((await gw.listen({ port: 0 })).url, gw);
  } finally {
    await gw.close();
  }
}

describe("plugin pipeline end to end", () => {
  it("lets a before hook rewrite arguments and an after hook rewrite the result, for both protocol eras", async () => {
    const shout = definePlugin({
      name: "shout",
      hooks: {
        "tools/call:before": ({ params }) => ({ payload: { params: { ...params, arguments: { text: String((params.arguments as { text: string }).text).toUpperCase() } } } }),
        "tools/call:after": ({ result }, ctx) => ({
          payload: { result: { ...result, content: [{ type: "text", text: `${firstText(result)} via ${ctx.upstream}` }] } },
        }),
      },
    });
    await withGateway([shout], async (url) => {
      for (const client of [await connectV1(`${url}/mcp`, "p"), await connectV2(`${url}/mcp`, "p2")]) {
        expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "hi" } }))).toBe("HI via up");
        await client.close();
      }
    });
  });

  it("blocks a call with a JSON-RPC error the client sees, and hides entries from lists", async () => {
    const policy = definePlugin({
      name: "policy",
      when: { names: ["up__add"] },
      hooks: { "tools/call:before": () => ({ block: { message: "add is disabled", code: -32012 } }) },
    });
    const hide = definePlugin({
      name: "hide",
      hooks: {
        "tools/list:after": ({ result }) => ({
          payload: { result: { ...result, tools: (result.tools as { name: string }[]).filter((t) => t.name !== "up__add") } },
        }),
      },
    });
    await withGateway([policy, hide], async (url) => {
      const client = await connectV1(`${url}/mcp`, "p");
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("up__echo");
      expect(names).not.toContain("up__add");
      await expect(client.callTool({ name: "up__add", arguments: { a: 1, b: 2 } })).rejects.toMatchObject({ code: -32012, message: expect.stringContaining("add is disabled") });
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "still fine" } }))).toBe("still fine");
      await client.close();
    });
  });

  it("survives a plugin that throws: the call fails closed, the gateway keeps serving", async () => {
    const broken = definePlugin({
      name: "broken",
      when: { names: ["up__whoami"] },
      hooks: { "tools/call:after": () => { throw new Error("plugin bug with secret=hunter2"); } },
    });
    await withGateway([broken], async (url) => {
      const client = await connectV1(`${url}/mcp`, "p");
      const error = await client.callTool({ name: "up__whoami", arguments: {} }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/plugin "broken" failed/);
      expect((error as Error).message).not.toContain("hunter2");
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "ok" } }))).toBe("ok");
      await client.close();
    });
  });

  it("answers raw HTTP requests from request:before and reports session start and end", async () => {
    const events: string[] = [];
    const gate = definePlugin({
      name: "gate",
      hooks: {
        "request:before": (request) => (request.headers.get("x-deny") ? new Response("denied", { status: 429, headers: { "retry-after": "1" } }) : undefined),
        "session:start": (s: SessionEvent) => void events.push(`start:${s.era}`),
        "session:end": (s: SessionEvent) => void events.push(`end:${s.era}`),
      },
    });
    await withGateway([gate], async (url) => {
      const denied = await fetch(`${url}/mcp`, { method: "POST", headers: { "x-deny": "1", "content-type": "application/json" }, body: "{}" });
      expect(denied.status).toBe(429);
      const transport = new V1HttpTransport(new URL(`${url}/mcp`));
      const client = new V1Client({ name: "s", version: "1" });
      await client.connect(transport);
      await transport.terminateSession();
      await client.close();
      expect(events).toEqual(["start:legacy", "end:legacy"]);
    });
  });

  it("swaps plugins on reload", async () => {
    const tag = (label: string) =>
      definePlugin({ name: "tag", hooks: { "tools/call:after": ({ result }) => ({ payload: { result: { ...result, content: [{ type: "text", text: label }] } } }) } });
    await withGateway([tag("first")], async (url, gw) => {
      const client = await connectV1(`${url}/mcp`, "p");
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "x" } }))).toBe("first");
      await gw.reload({ log: { level: "silent" }, plugins: [tag("second")], upstreams: { up: { type: "streamable-http", url: upstream.url } } });
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "x" } }))).toBe("second");
      await client.close();
    });
  });
});
