import { ToolListChangedNotificationSchema, PromptListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/_utils/logger.ts";
import { createGateway, definePrompt, defineTool, GatewayError, LocalUpstream, resolveConfig, type GatewayConfig } from "../../../src/index.ts";
import { connectV1, connectV2, endSession, firstText, nextEvent } from "../../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../../fixtures/servers.ts";
import { startGateway } from "./_gateway.ts";

let upstream: LegacyHttpServer;
beforeAll(async () => {
  upstream = await startLegacyHttpServer({ name: "up" });
});
afterAll(() => upstream?.close());

const version = (n: number, description = `version ${n}`) =>
  defineTool({ description, input: v.object({}), run: () => `v${n}` });

describe("local entries on reload", () => {
  it("picks up a changed tool and sends tools/list_changed", async () => {
    const { gw, url, close } = await startGateway({ tools: { now: version(1) } });
    const client = await connectV1(url);
    const modern = await connectV2(url);
    try {
      expect(firstText(await client.callTool({ name: "now", arguments: {} }))).toBe("v1");
      const changed = nextEvent<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()), 5_000, "tools/list_changed");
      const modernChanged = nextEvent<void>((resolve) => modern.setNotificationHandler("notifications/tools/list_changed", () => resolve()), 5_000, "tools/list_changed (2026-07-28)");
      const listening = await modern.listen({ toolsListChanged: true });
      await gw.reload({ log: { level: "silent" }, tools: { now: version(2), later: version(3) } });
      await changed;
      await modernChanged;
      await listening.close();
      const { tools } = await client.listTools();
      expect(tools.map((t) => [t.name, t.description])).toEqual([
        ["now", "version 2"],
        ["later", "version 3"],
      ]);
      expect(firstText(await modern.callTool({ name: "now", arguments: {} }))).toBe("v2");
    } finally {
      await endSession(client);
      await modern.close();
      await close();
    }
  });

  it("uses a new run function even when nothing listed changed", async () => {
    const { gw, url, close } = await startGateway({ tools: { now: version(1, "same") } });
    const client = await connectV1(url);
    try {
      await gw.reload({ log: { level: "silent" }, tools: { now: version(2, "same") } });
      expect(firstText(await client.callTool({ name: "now", arguments: {} }))).toBe("v2");
    } finally {
      await endSession(client);
      await close();
    }
  });

  it("renders a changed prompt template and announces new prompts", async () => {
    const prompt = (template: string) => definePrompt({ arguments: [{ name: "x", required: true }], template });
    const { gw, url, close } = await startGateway({ prompts: { p: prompt("old {{ x }}") } });
    const client = await connectV1(url);
    try {
      // A round trip first: the session's notification stream is open by then.
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(["p"]);
      const changed = nextEvent<void>((resolve) => client.setNotificationHandler(PromptListChangedNotificationSchema, () => resolve()), 5_000, "prompts/list_changed");
      await gw.reload({ log: { level: "silent" }, prompts: { p: prompt("new {{ x }}"), q: prompt("{{ x }}") } });
      await changed;
      const result = await client.getPrompt({ name: "p", arguments: { x: "1" } });
      expect((result.messages[0]!.content as { text: string }).text).toBe("new 1");
    } finally {
      await endSession(client);
      await close();
    }
  });

  it("keeps a template set at run time while the config leaves that prompt alone, and drops it when the config changes it", async () => {
    const config = (template: string) => {
      const resolved = resolveConfig({ prompts: { p: { arguments: [{ name: "x" }], template } } }).upstreams.find((u) => u.type === "local");
      if (resolved?.type !== "local") throw new Error("no local upstream");
      return resolved;
    };
    const local = new LocalUpstream({ config: config("config {{ x }}"), log: createLogger("silent") });
    await local.start();
    local.setPromptTemplate("p", "admin {{ x }}");
    local.update(config("config {{ x }}"));
    expect(local.getPromptTemplate("p")).toBe("admin {{ x }}");
    local.update(config("edited {{ x }}"));
    expect(local.getPromptTemplate("p")).toBe("edited {{ x }}");
    await local.close();
  });
});

describe("LocalUpstream lifecycle", () => {
  it("lets a running call finish within drainMs, then aborts the rest on close", async () => {
    const aborted: string[] = [];
    const config = resolveConfig({
      tools: {
        quick: defineTool({ input: v.object({}), run: () => new Promise((resolve) => setImmediate(() => resolve("finished"))) }),
        hang: defineTool({
          input: v.object({}),
          run: (_args, { signal }) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => (aborted.push("hang"), reject(signal.reason)))),
        }),
      },
    }).upstreams.find((u) => u.type === "local");
    if (config?.type !== "local") throw new Error("no local upstream");
    const local = new LocalUpstream({ config, log: createLogger("silent") });
    await local.start();
    const quick = local.request({ method: "tools/call", params: { name: "quick", arguments: {} } });
    const hang = local.request({ method: "tools/call", params: { name: "hang", arguments: {} } });
    await local.close({ drainMs: 100 });
    expect(await quick).toEqual({ content: [{ type: "text", text: "finished" }] });
    await expect(hang).rejects.toThrow(/Upstream "local" closed/);
    expect(aborted).toEqual(["hang"]);
    await expect(local.request({ method: "tools/list" })).rejects.toThrow(/Upstream "local" is closed/);
  });
});

describe("local entries next to upstreams", () => {
  it("refuses to start when a local tool and an upstream tool share a name, naming both", async () => {
    const error = await createGateway({
      log: { level: "silent" },
      upstreams: { up: { type: "streamable-http", url: upstream.url, prefix: false } },
      tools: { echo: version(1) },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe("NAME_COLLISION");
    expect((error as Error).message).toMatch(/tool name "echo" is claimed by upstream "up" \(echo\) and upstream "local" \(echo\)/);
  });

  it("exposes local entries under local.prefix when one is set", async () => {
    const config: GatewayConfig = {
      upstreams: { up: { type: "streamable-http", url: upstream.url } },
      local: { prefix: "mine" },
      tools: { echo: version(1) },
    };
    const { url, close } = await startGateway(config);
    const client = await connectV1(url);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("mine__echo");
      expect(names).toContain("up__echo");
      expect(firstText(await client.callTool({ name: "mine__echo", arguments: {} }))).toBe("v1");
    } finally {
      await endSession(client);
      await close();
    }
  });

  it("reserves the upstream name local when local entries are declared", () => {
    const load = () => resolveConfig({ upstreams: { local: { type: "streamable-http", url: upstream.url } }, tools: { now: version(1) } });
    expect(load).toThrow(/upstreams\.local: the upstream name "local" is reserved/);
    expect(resolveConfig({ upstreams: { local: { type: "streamable-http", url: upstream.url } } }).upstreams.map((u) => u.name)).toEqual(["local"]);
  });

  it("reports invalid tool definitions with the field path", () => {
    expect(() => resolveConfig({ tools: { t: { input: { not: "a schema" }, run: () => "" } } })).toThrow(/tools\.t\.input: expected a valibot schema/);
    expect(() => resolveConfig({ tools: { t: { input: v.string(), run: () => "" } } })).toThrow(/tools\.t: input must be an object schema/);
    expect(() => resolveConfig({ tools: { t: { input: v.object({}) } } })).toThrow(/tools\.t\.run: /);
    expect(() => resolveConfig({ tools: { "bad name": version(1) } })).toThrow(/tools\.bad name: expected 1-64 letters/);
    expect(() => resolveConfig({ local: { color: "red" } })).toThrow(/local\.color: unknown key/);
  });
});
