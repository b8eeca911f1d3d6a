import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway, type GatewayConfig } from "../../src/index.ts";
import { connectSse, connectV1, connectV2, firstText, nextEvent } from "../_helpers.ts";
import { README_URI, startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

let one: LegacyHttpServer;
let two: LegacyHttpServer;
let gw: Gateway;
let url: string;

function config(): GatewayConfig {
  return {
    log: { level: "silent" },
    upstreams: {
      one: { type: "streamable-http", url: one.url },
      two: { type: "streamable-http", url: two.url },
    },
    entries: {
      prompts: { one__greet: { tags: ["greeting"] } },
      tools: { one__fail: { enabled: false }, two__whoami: { tags: ["identity"], description: "Who is two?" } },
    },
    servers: {
      research: {
        description: "Curated",
        tools: ["one__*", { name: "two__echo", rename: "echo2", description: "Echo, curated" }, { name: "two__add", fixed: { b: 10 } }, "tag:identity"],
        prompts: ["tag:greeting"],
        resources: [README_URI],
      },
      off: { enabled: false, tools: ["*"] },
    },
  };
}

beforeAll(async () => {
  [one, two] = await Promise.all([startLegacyHttpServer({ name: "one" }), startLegacyHttpServer({ name: "two" })]);
  gw = await createGateway(config());
  url = (await gw.listen({ port: 0 })).url;
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([one?.close(), two?.close()]);
});

const names = (list: { name: string }[]) => list.map((t) => t.name).sort();

describe("virtual servers", () => {
  it("hides an entry disabled in `entries` from the main endpoint and refuses calls to it", async () => {
    const client = await connectV1(`${url}/mcp`);
    try {
      const tools = names((await client.listTools()).tools);
      expect(tools).toContain("one__echo");
      expect(tools).not.toContain("one__fail");
      await expect(client.callTool({ name: "one__fail", arguments: {} })).rejects.toThrow(/Unknown tool: one__fail/);
      const whoami = (await client.listTools()).tools.find((t) => t.name === "two__whoami");
      expect(whoami?.description).toBe("Who is two?");
    } finally {
      await client.close();
    }
  });

  it("serves exactly its selection at /servers/<name>/mcp, with renames, descriptions and tags (2025-11-25 client)", async () => {
    const client = await connectV1(`${url}/servers/research/mcp`);
    try {
      const { tools } = await client.listTools();
      const oneTools = names((await client.listTools()).tools).filter((n) => n.startsWith("one__"));
      expect(oneTools).toEqual(["one__add", "one__big", "one__echo", "one__elicit", "one__sample", "one__slow", "one__throws", "one__whoami"]);
      expect(names(tools).filter((n) => !n.startsWith("one__"))).toEqual(["echo2", "two__add", "two__whoami"]);
      expect(tools.find((t) => t.name === "echo2")?.description).toBe("Echo, curated");
      expect(firstText(await client.callTool({ name: "echo2", arguments: { text: "héllo" } }))).toBe("héllo");
      expect(firstText(await client.callTool({ name: "two__whoami", arguments: {} }))).toBe("two");

      expect(names((await client.listPrompts()).prompts)).toEqual(["one__greet"]);
      expect((await client.listResources()).resources.map((r) => r.uri)).toEqual([README_URI]);
      expect((await client.listResourceTemplates()).resourceTemplates).toEqual([]);
      expect((await client.readResource({ uri: README_URI })).contents[0]).toMatchObject({ text: "hello one" });
    } finally {
      await client.close();
    }
  });

  it("refuses entries outside the server with the same error as unknown ones", async () => {
    const client = await connectV1(`${url}/servers/research/mcp`);
    try {
      await expect(client.callTool({ name: "two__echo", arguments: { text: "x" } })).rejects.toThrow(/Unknown tool: two__echo/);
      await expect(client.callTool({ name: "two__slow", arguments: {} })).rejects.toThrow(/Unknown tool: two__slow/);
      await expect(client.getPrompt({ name: "two__greet", arguments: { name: "a" } })).rejects.toThrow(/Unknown prompt/);
      await expect(client.readResource({ uri: "fixture://items/1" })).rejects.toThrow(/Resource not found/);
    } finally {
      await client.close();
    }
  });

  it("hides fixed arguments from the schema and overrides a client's value", async () => {
    const client = await connectV1(`${url}/servers/research/mcp`);
    try {
      const add = (await client.listTools()).tools.find((t) => t.name === "two__add");
      expect(Object.keys(add?.inputSchema.properties ?? {})).toEqual(["a"]);
      expect(add?.inputSchema.required ?? []).not.toContain("b");
      expect(firstText(await client.callTool({ name: "two__add", arguments: { a: 1 } }))).toBe("11");
      expect(firstText(await client.callTool({ name: "two__add", arguments: { a: 1, b: 1000 } }))).toBe("11");
    } finally {
      await client.close();
    }
  });

  it("serves the same view to 2026-07-28 clients and over legacy SSE", async () => {
    const modern = await connectV2(`${url}/servers/research/mcp`);
    const sse = await connectSse(`${url}/servers/research/sse`);
    try {
      const modernTools = names((await modern.listTools()).tools);
      const sseTools = names((await sse.listTools()).tools);
      expect(modernTools).toContain("echo2");
      expect(modernTools).not.toContain("two__echo");
      expect(sseTools).toEqual(modernTools);
      const result = await modern.callTool({ name: "two__add", arguments: { a: 5 } });
      expect(firstText(result)).toBe("15");
      expect(firstText(await sse.callTool({ name: "echo2", arguments: { text: "sse" } }))).toBe("sse");
    } finally {
      await Promise.all([modern.close(), sse.close()]);
    }
  });

  it("answers 404 for an unknown or disabled server", async () => {
    for (const name of ["nope", "off"]) {
      const response = await fetch(`${url}/servers/${name}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { message: `Server not found: ${name}` } });
    }
  });

  it("does not let a virtual server's session id be used at another endpoint", async () => {
    const init = await fetch(`${url}/servers/research/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    const session = init.headers.get("mcp-session-id");
    expect(session).toBeTruthy();
    await init.body?.cancel();
    const misuse = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": session!, "mcp-protocol-version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(misuse.status).toBe(404);
    await fetch(`${url}/servers/research/mcp`, { method: "DELETE", headers: { "mcp-session-id": session! } });
  });

  it("applies server changes on reload: clients re-list, and a removed server's sessions are closed", async () => {
    const client = await connectV1(`${url}/servers/research/mcp`);
    const listener = await connectV2(`${url}/servers/research/mcp`);
    const changed = nextEvent<void>((resolve) => listener.setNotificationHandler("notifications/tools/list_changed", () => resolve()), 5000, "tools/list_changed");
    const subscription = await listener.listen({ toolsListChanged: true });
    const next = config();
    next.servers!.research!.tools = ["two__whoami"];
    next.servers!.added = { tools: ["one__echo"] };
    await gw.reload(next);
    await changed;
    await subscription.close();
    await listener.close();
    expect(names((await client.listTools()).tools)).toEqual(["two__whoami"]);
    const added = await connectV1(`${url}/servers/added/mcp`);
    expect(names((await added.listTools()).tools)).toEqual(["one__echo"]);

    await gw.reload(config());
    await expect(added.listTools()).rejects.toThrow();
    await added.close();
    await client.close();
    const gone = await fetch(`${url}/servers/added/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(gone.status).toBe(404);
  });
});
