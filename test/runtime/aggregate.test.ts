import type { Client } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { connectSse, connectV1, connectV2, firstText } from "../_helpers.ts";
import {
  startLegacyHttpServer,
  startLegacySseServer,
  startModernHttpServer,
  stdioServerCommand,
  type LegacyHttpServer,
  type LegacySseServer,
  type ModernHttpServer,
} from "../fixtures/servers.ts";

const PREFIXES = ["stdio", "lhttp", "sse", "modern"] as const;

let gw: Gateway;
let url: string;
let modernUp: ModernHttpServer;
let legacyUp: LegacyHttpServer;
let sseUp: LegacySseServer;

/** The three kinds of client the issue asks for: v2 (2026-07-28), v1 streamable HTTP (2025-11-25), v1 legacy SSE. */
const clients: Record<"v2" | "v1" | "sse", () => Promise<Client | V1Client>> = {
  v2: () => connectV2(`${url}/mcp`, "v2-client"),
  v1: () => connectV1(`${url}/mcp`, "v1-client"),
  sse: () => connectSse(`${url}/sse`, "sse-client"),
};

beforeAll(async () => {
  [modernUp, legacyUp, sseUp] = await Promise.all([
    startModernHttpServer({ name: "modern-up" }),
    startLegacyHttpServer({ name: "lhttp-up" }),
    startLegacySseServer({ name: "sse-up" }),
  ]);
  const stdio = stdioServerCommand({ name: "stdio-up" });
  gw = await createGateway({
    log: { level: "silent" },
    upstreams: {
      stdio: { type: "stdio", command: stdio.command, args: stdio.args },
      lhttp: { type: "streamable-http", url: legacyUp.url },
      sse: { type: "sse", url: sseUp.url },
      modern: { type: "streamable-http", url: modernUp.url },
    },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([modernUp?.close(), legacyUp?.close(), sseUp?.close()]);
});

describe("aggregation over four upstream kinds", () => {
  it("connects each upstream in its own era", () => {
    const health = gw.health();
    expect(health.status).toBe("ok");
    expect(health.upstreams.modern).toMatchObject({ state: "connected", era: "modern", protocolVersion: "2026-07-28" });
    for (const name of ["stdio", "lhttp", "sse"]) expect(health.upstreams[name]).toMatchObject({ state: "connected", era: "legacy" });
    expect(health.conflicts).toEqual([]);
  });

  for (const kind of ["v2", "v1", "sse"] as const) {
    describe(`${kind} client`, () => {
      it("sees the namespaced tools, prompts and resource templates of every upstream", async () => {
        const client = await clients[kind]();
        try {
          const tools = (await client.listTools()).tools.map((t) => t.name);
          for (const prefix of PREFIXES) {
            expect(tools).toContain(`${prefix}__echo`);
            expect(tools).toContain(`${prefix}__whoami`);
          }
          expect(tools).toContain("stdio__crash");
          expect(tools).not.toContain("echo");
          const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
          expect(prompts).toEqual(expect.arrayContaining(PREFIXES.map((p) => `${p}__greet`)));
          const templates = (await client.listResourceTemplates()).resourceTemplates;
          expect(templates.filter((t) => t.uriTemplate === "fixture://items/{id}")).toHaveLength(4);
          const resources = (await client.listResources()).resources.map((r) => r.uri);
          expect(resources).toContain("fixture://readme");
        } finally {
          await client.close();
        }
      });

      it("routes tools/call to the upstream that owns the name", async () => {
        const client = await clients[kind]();
        try {
          for (const [prefix, server] of [
            ["stdio", "stdio-up"],
            ["lhttp", "lhttp-up"],
            ["sse", "sse-up"],
            ["modern", "modern-up"],
          ]) {
            const result = await client.callTool({ name: `${prefix}__whoami`, arguments: {} });
            expect(firstText(result)).toBe(server);
          }
        } finally {
          await client.close();
        }
      });

      it("forwards structuredContent and outputSchema untouched", async () => {
        const client = await clients[kind]();
        try {
          const tool = (await client.listTools()).tools.find((t) => t.name === "lhttp__echo");
          expect(tool?.outputSchema).toMatchObject({ type: "object", properties: { text: { type: "string" } } });
          const result = await client.callTool({ name: "lhttp__echo", arguments: { text: "héllo 漢" } });
          expect(result.structuredContent).toEqual({ text: "héllo 漢" });
        } finally {
          await client.close();
        }
      });

      it("returns tool errors as results and upstream JSON-RPC errors as errors without stack traces", async () => {
        const client = await clients[kind]();
        try {
          const failed = await client.callTool({ name: "lhttp__fail", arguments: {} });
          expect(failed.isError).toBe(true);
          const thrown = await client.callTool({ name: "lhttp__throws", arguments: {} }).then(
            () => undefined,
            (error: Error) => error,
          );
          expect(thrown?.message).toContain("boom");
          expect(thrown?.message).not.toMatch(/\n\s+at /);
          const unknown = await client.callTool({ name: "nope__nothing", arguments: {} }).then(
            (r) => r,
            (error: Error) => error,
          );
          expect(String((unknown as Error).message ?? JSON.stringify(unknown))).toMatch(/Unknown tool: nope__nothing/);
        } finally {
          await client.close();
        }
      });

      it("gets prompts and completions under their namespaced names", async () => {
        const client = await clients[kind]();
        try {
          const prompt = await client.getPrompt({ name: "sse__greet", arguments: { name: "Ada" } });
          expect(JSON.stringify(prompt.messages)).toContain("Hello Ada");
          const completion = await client.complete({
            ref: { type: "ref/prompt", name: "modern__greet" },
            argument: { name: "name", value: "al" },
          });
          expect(completion.completion.values).toEqual(["alice", "albert"]);
        } finally {
          await client.close();
        }
      });

      it("reads listed resources and template resources from the upstream that serves them", async () => {
        const client = await clients[kind]();
        try {
          const item = await client.readResource({ uri: "fixture://items/42" });
          expect((item.contents[0] as { text: string }).text).toBe("item 42");
          // Four upstreams list fixture://readme: the first in config order serves it, and /health says so.
          const readme = await client.readResource({ uri: "fixture://readme" });
          expect((readme.contents[0] as { text: string }).text).toBe("hello stdio-up");
          expect(gw.health().shadowed.length).toBe(3);
        } finally {
          await client.close();
        }
      });
    });
  }
});

describe("pagination", () => {
  it("pages a merged tool list larger than server.pageSize and the pages add up to the whole list", async () => {
    const big = await startLegacyHttpServer({ name: "big", extraTools: 1200 });
    const gateway = await createGateway({
      log: { level: "silent" },
      server: { pageSize: 500 },
      upstreams: { big: { type: "streamable-http", url: big.url } },
    });
    const { url: base } = await gateway.listen({ port: 0 });
    const client = new V1Client({ name: "pager", version: "1" });
    try {
      await client.connect(new V1HttpTransport(new URL(`${base}/mcp`)));
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(new Set(names).size).toBe(1209);
      expect(names).toContain("big__tool_1199");
      await expect(client.listTools({ cursor: "bogus" })).rejects.toThrow(/Invalid cursor/);
    } finally {
      await client.close();
      await gateway.close();
      await big.close();
    }
  });
});
