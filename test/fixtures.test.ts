/**
 * Proves the upstream fixtures in test/fixtures/ work with real SDK clients:
 * - SDK v2 Client (versionNegotiation auto → 2026-07-28) against startModernHttpServer
 * - SDK v1 Client over streamable HTTP / SSE / stdio against the legacy fixtures
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport as TransportV1 } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { firstText, isAlive, portIsFree, waitFor } from "./_helpers.ts";
import {
  bigText,
  startLegacyHttpServer,
  startLegacySseServer,
  startModernHttpServer,
  stdioServerCommand,
  triggerStdioNotifications,
  type LegacyHttpServer,
  type LegacySseServer,
  type ModernHttpServer,
} from "./fixtures/servers.ts";

const BASE_TOOLS = ["echo", "add", "slow", "sample", "elicit", "fail", "throws", "big", "whoami"];

// ---------------------------------------------------------------------------
// unit: bigText
// ---------------------------------------------------------------------------

describe("bigText", () => {
  it("produces exactly the requested number of UTF-8 bytes with multi-byte chars", () => {
    for (const n of [0, 1, 9, 10, 11, 1000, 65_537]) {
      const t = bigText(n);
      expect(Buffer.byteLength(t, "utf8")).toBe(n);
    }
    expect(bigText(40)).toMatch(/é/);
    expect(bigText(40)).toMatch(/漢/);
    expect(bigText(40)).toMatch(/🙂/);
  });
});

// ---------------------------------------------------------------------------
// modern: SDK v2 server + SDK v2 client (2026-07-28)
// ---------------------------------------------------------------------------

describe("startModernHttpServer (SDK v2, createMcpHandler) with the v2 client", () => {
  let server: ModernHttpServer;
  let client: ClientV2;
  let elicitAction: "accept" | "decline" = "accept";

  beforeAll(async () => {
    server = await startModernHttpServer({ name: "modern-1", extraTools: 3 });
    client = new ClientV2(
      { name: "fixture-test", version: "1.0.0" },
      { versionNegotiation: { mode: "auto" }, capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    client.setRequestHandler("sampling/createMessage", async (request) => {
      const msg = request.params.messages[0];
      const prompt = msg && !Array.isArray(msg.content) && msg.content.type === "text" ? msg.content.text : "?";
      return { model: "test-model", role: "assistant", content: { type: "text", text: `llm(${prompt})` } };
    });
    client.setRequestHandler("elicitation/create", async () =>
      elicitAction === "accept" ? { action: "accept", content: { answer: "42" } } : { action: "decline" },
    );
    await client.connect(new StreamableHTTPClientTransportV2(new URL(server.url)));
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it("negotiates the modern era and lists the tool set", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(client.getProtocolEra()).toBe("modern");
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([...BASE_TOOLS, "tool_0", "tool_1", "tool_2"]);
    expect(tools.find((t) => t.name === "echo")?.outputSchema).toBeTruthy();
  });

  it("echo / add / big / whoami / fail / throws", async () => {
    const before = server.calls;
    const echo = await client.callTool({ name: "echo", arguments: { text: "héllo 漢" } });
    expect(firstText(echo)).toBe("héllo 漢");
    expect(echo.structuredContent).toEqual({ text: "héllo 漢" });
    expect(firstText(await client.callTool({ name: "add", arguments: { a: 2, b: 40 } }))).toBe("42");
    const big = firstText(await client.callTool({ name: "big", arguments: { bytes: 100_003 } }));
    expect(Buffer.byteLength(big, "utf8")).toBe(100_003);
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("modern-1");
    const fail = await client.callTool({ name: "fail", arguments: {} });
    expect(fail.isError).toBe(true);
    await expect(client.callTool({ name: "throws", arguments: {} })).rejects.toThrow(/boom/);
    expect(firstText(await client.callTool({ name: "tool_2", arguments: {} }))).toBe("tool_2");
    expect(server.calls - before).toBe(7);
  });

  it("slow sends progress notifications", async () => {
    const progress: { progress: number; total?: number }[] = [];
    const result = await client.callTool(
      { name: "slow", arguments: { steps: 3, ms: 10 } },
      { onprogress: (p) => progress.push(p) },
    );
    expect(firstText(result)).toBe("done");
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ progress: 1, total: 3 });
  });

  it("slow honours cancellation via AbortSignal", async () => {
    const before = server.cancelled;
    const ac = new AbortController();
    const call = client.callTool(
      { name: "slow", arguments: { steps: 100, ms: 50 } },
      { signal: ac.signal, onprogress: () => ac.abort() },
    );
    await expect(call).rejects.toThrow(/abort/i);
    await waitFor(() => server.cancelled > before, 3000, "server-side cancellation");
  });

  it("sample: input_required sampling round-trip through the client's handler", async () => {
    const result = await client.callTool({ name: "sample", arguments: { prompt: "hi" } });
    expect(firstText(result)).toBe("sampled:llm(hi)");
  });

  it("elicit: input_required elicitation (accept and decline)", async () => {
    elicitAction = "accept";
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "q?" } }))).toBe("answer:42");
    elicitAction = "decline";
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "q?" } }))).toBe("declined");
    elicitAction = "accept";
  });

  it("resources, templates, prompts and completion", async () => {
    const readme = await client.readResource({ uri: "fixture://readme" });
    expect(readme.contents[0]).toMatchObject({ uri: "fixture://readme", text: "hello modern-1" });
    const item = await client.readResource({ uri: "fixture://items/7" });
    expect(item.contents[0]).toMatchObject({ text: "item 7" });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain("fixture://items/{id}");
    const prompt = await client.getPrompt({ name: "greet", arguments: { name: "bob" } });
    expect(prompt.messages).toEqual([{ role: "user", content: { type: "text", text: "Hello bob" } }]);
    const completion = await client.complete({
      ref: { type: "ref/prompt", name: "greet" },
      argument: { name: "name", value: "al" },
    });
    expect(completion.completion.values).toEqual(["alice", "albert"]);
  });

  it("subscriptions/listen receives notify.resourceUpdated and notify.toolsChanged", async () => {
    const updated: string[] = [];
    let toolsChanged = 0;
    client.setNotificationHandler("notifications/resources/updated", (n) => {
      updated.push(n.params.uri);
    });
    client.setNotificationHandler("notifications/tools/list_changed", () => {
      toolsChanged++;
    });
    const sub = await client.listen({ toolsListChanged: true, resourceSubscriptions: ["fixture://readme"] });
    try {
      expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true, resourceSubscriptions: ["fixture://readme"] });
      server.updateResource("fixture://readme");
      server.notify.toolsChanged();
      await waitFor(() => updated.length > 0 && toolsChanged > 0, 3000, "listen notifications");
      expect(updated).toEqual(["fixture://readme"]);
    } finally {
      await sub.close();
    }
  });
});

describe("startModernHttpServer close()", () => {
  it("closes in < 1 s with an open listen stream and an in-flight call, and frees the port", async () => {
    const server = await startModernHttpServer();
    const client = new ClientV2({ name: "t", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransportV2(new URL(server.url)));
    await client.listen({ toolsListChanged: true });
    let progressed = false;
    const inflight = client
      .callTool({ name: "slow", arguments: { steps: 1000, ms: 20 } }, { onprogress: () => (progressed = true) })
      .catch(() => "rejected");
    await waitFor(() => progressed, 3000, "first progress");
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await portIsFree(server.url)).toBe(true);
    await client.close().catch(() => {});
    expect(await inflight).toBe("rejected");
  });
});

// ---------------------------------------------------------------------------
// legacy: SDK v1 servers + SDK v1 client (streamable HTTP, SSE, stdio)
// ---------------------------------------------------------------------------

interface LegacyCase {
  label: string;
  start(): Promise<{
    transport(): TransportV1;
    name: string;
    counters(client: ClientV1): Promise<{ calls: number; cancelled: number }>;
    updateResource?(uri: string): Promise<number>;
    sendToolListChanged?(): void;
    /** stdio: resources/updated for every subscribed URI + tools/list_changed. */
    triggerAll?(): void;
    /** Resolves once unsolicited notifications can reach the client. */
    notificationsReady?(): Promise<void>;
    close(): Promise<void>;
  }>;
}

const serverCounters = (s: { calls: number; cancelled: number }) => async () => ({ calls: s.calls, cancelled: s.cancelled });

const legacyCases: LegacyCase[] = [
  {
    label: "startLegacyHttpServer (v1 sessionful streamable HTTP)",
    async start() {
      const s: LegacyHttpServer = await startLegacyHttpServer({ name: "legacy-http", extraTools: 2 });
      return {
        transport: () => new StreamableHTTPClientTransport(new URL(s.url)),
        name: s.name,
        counters: serverCounters(s),
        updateResource: (uri) => s.updateResource(uri),
        sendToolListChanged: () => s.sendToolListChanged(),
        notificationsReady: () => waitFor(() => s.openStreams() > 0, 3000, "standalone GET stream"),
        close: () => s.close(),
      };
    },
  },
  {
    label: "startLegacySseServer (v1 HTTP+SSE)",
    async start() {
      const s: LegacySseServer = await startLegacySseServer({ name: "legacy-sse", extraTools: 2 });
      return {
        transport: () => new SSEClientTransport(new URL(s.url)),
        name: s.name,
        counters: serverCounters(s),
        updateResource: (uri) => s.updateResource(uri),
        sendToolListChanged: () => s.sendToolListChanged(),
        close: () => s.close(),
      };
    },
  },
  {
    label: "stdio-server.ts (v1 stdio)",
    async start() {
      let last: StdioClientTransport | undefined;
      return {
        transport: () =>
          (last = new StdioClientTransport({ ...stdioServerCommand({ name: "legacy-stdio", extraTools: 2 }), stderr: "pipe" })),
        name: "legacy-stdio",
        triggerAll: () => triggerStdioNotifications(last?.pid ?? -1),
        // counters live in the child process: read them through the stdio-only `stats` tool
        counters: async (client) =>
          JSON.parse(firstText(await client.callTool({ name: "stats", arguments: {} }))) as { calls: number; cancelled: number },
        close: async () => {},
      };
    },
  },
];

describe.each(legacyCases)("$label with the v1 client", ({ label, start }) => {
  let fx: Awaited<ReturnType<LegacyCase["start"]>>;
  let client: ClientV1;
  const logs: unknown[] = [];
  const updated: string[] = [];
  let toolListChanged = 0;
  let elicitAction: "accept" | "decline" = "accept";

  beforeAll(async () => {
    fx = await start();
    client = new ClientV1(
      { name: "fixture-test", version: "1.0.0" },
      { capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const msg = request.params.messages[0];
      const content = msg?.content;
      const prompt = content && !Array.isArray(content) && content.type === "text" ? content.text : "?";
      return { model: "test-model", role: "assistant", content: { type: "text", text: `llm(${prompt})` } };
    });
    client.setRequestHandler(ElicitRequestSchema, async () =>
      elicitAction === "accept" ? { action: "accept", content: { answer: "42" } } : { action: "decline" },
    );
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      toolListChanged++;
    });
    await client.connect(fx.transport());
  }, 20_000);

  afterAll(async () => {
    await client?.close();
    await fx?.close();
  });

  it("lists the tool set", async () => {
    expect(client.getServerVersion()?.name).toBe(fx.name);
    const { tools } = await client.listTools();
    const expected = [...BASE_TOOLS, "tool_0", "tool_1"];
    if (label.includes("stdio")) expected.push("crash", "pid", "stats");
    expect(tools.map((t) => t.name)).toEqual(expected);
  });

  it("echo (+ logging once a level is set) / add / big / whoami / fail / throws", async () => {
    const before = await fx.counters(client);
    const echo = await client.callTool({ name: "echo", arguments: { text: "no-log" } });
    expect(firstText(echo)).toBe("no-log");
    expect(echo.structuredContent).toEqual({ text: "no-log" });
    await client.setLoggingLevel("info");
    await client.callTool({ name: "echo", arguments: { text: "héllo" } });
    await waitFor(() => logs.length > 0, 3000, "logging notification");
    expect(logs).toEqual([{ level: "info", logger: "echo", data: "echo: héllo" }]);
    expect(firstText(await client.callTool({ name: "add", arguments: { a: 2, b: 40 } }))).toBe("42");
    const big = firstText(await client.callTool({ name: "big", arguments: { bytes: 100_003 } }));
    expect(Buffer.byteLength(big, "utf8")).toBe(100_003);
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe(fx.name);
    expect((await client.callTool({ name: "fail", arguments: {} })).isError).toBe(true);
    await expect(client.callTool({ name: "throws", arguments: {} })).rejects.toThrow(/boom/);
    const after = await fx.counters(client);
    expect(after.calls - before.calls).toBe(7); // `stats` itself is not counted
  });

  it("slow sends progress notifications", async () => {
    const progress: { progress: number; total?: number }[] = [];
    const result = await client.callTool({ name: "slow", arguments: { steps: 3, ms: 10 } }, undefined, {
      onprogress: (p) => progress.push(p),
    });
    expect(firstText(result)).toBe("done");
    // The v1 client handles notifications a microtask after responses, so the
    // last progress can be dropped when it shares a chunk with the result.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ progress: 1, total: 3 });
  });

  it("slow honours cancellation via AbortSignal (cancelled counter increments)", async () => {
    const before = (await fx.counters(client)).cancelled;
    const ac = new AbortController();
    const call = client.callTool({ name: "slow", arguments: { steps: 100, ms: 50 } }, undefined, {
      signal: ac.signal,
      onprogress: () => ac.abort(),
    });
    await expect(call).rejects.toThrow(/abort/i);
    await waitFor(async () => (await fx.counters(client)).cancelled > before, 3000, "server-side cancellation");
  });

  it("sample and elicit via server→client requests", async () => {
    expect(firstText(await client.callTool({ name: "sample", arguments: { prompt: "hi" } }))).toBe("sampled:llm(hi)");
    elicitAction = "accept";
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "q?" } }))).toBe("answer:42");
    elicitAction = "decline";
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "q?" } }))).toBe("declined");
    elicitAction = "accept";
  });

  it("resources, templates, prompts and completion", async () => {
    const readme = await client.readResource({ uri: "fixture://readme" });
    expect(readme.contents[0]).toMatchObject({ uri: "fixture://readme", text: `hello ${fx.name}` });
    const item = await client.readResource({ uri: "fixture://items/abc" });
    expect(item.contents[0]).toMatchObject({ text: "item abc" });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain("fixture://items/{id}");
    const prompt = await client.getPrompt({ name: "greet", arguments: { name: "bob" } });
    expect(prompt.messages).toEqual([{ role: "user", content: { type: "text", text: "Hello bob" } }]);
    const completion = await client.complete({
      ref: { type: "ref/prompt", name: "greet" },
      argument: { name: "name", value: "b" },
    });
    expect(completion.completion.values).toEqual(["bob"]);
  });

  it("resources/subscribe → updateResource(uri) and sendToolListChanged()", async () => {
    await client.subscribeResource({ uri: "fixture://readme" });
    await fx.notificationsReady?.();
    if (fx.updateResource && fx.sendToolListChanged) {
      expect(await fx.updateResource("fixture://items/1")).toBe(0); // not subscribed
      expect(await fx.updateResource("fixture://readme")).toBe(1);
      fx.sendToolListChanged();
    } else {
      fx.triggerAll?.();
    }
    await waitFor(() => updated.length > 0 && toolListChanged > 0, 3000, "unsolicited notifications");
    expect(updated).toEqual(["fixture://readme"]);
  });
});

describe("legacy HTTP fixtures: sessions and fast close()", () => {
  it("startLegacyHttpServer counts sessions and closes in < 1 s with open streams", async () => {
    const server = await startLegacyHttpServer();
    const a = new ClientV1({ name: "a", version: "1" });
    const b = new ClientV1({ name: "b", version: "1" });
    await a.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    await b.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    expect(server.sessions()).toBe(2);
    await waitFor(() => server.openStreams() === 2, 3000, "two GET streams");
    let progressed = false;
    const inflight = a
      .callTool({ name: "slow", arguments: { steps: 1000, ms: 20 } }, undefined, { onprogress: () => (progressed = true) })
      .catch(() => "rejected");
    await waitFor(() => progressed, 3000, "first progress");
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await portIsFree(server.url)).toBe(true);
    expect(server.sessions()).toBe(0);
    // the v1 client keeps a request whose stream died pending until close()
    await Promise.allSettled([a.close(), b.close()]);
    expect(await inflight).toBe("rejected");
  });

  it("startLegacySseServer closes in < 1 s with an open SSE stream", async () => {
    const server = await startLegacySseServer();
    const c = new ClientV1({ name: "c", version: "1" });
    await c.connect(new SSEClientTransport(new URL(server.url)));
    expect(server.sessions()).toBe(1);
    let progressed = false;
    const inflight = c
      .callTool({ name: "slow", arguments: { steps: 1000, ms: 20 } }, undefined, { onprogress: () => (progressed = true) })
      .catch(() => "rejected");
    await waitFor(() => progressed, 3000, "first progress");
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await portIsFree(server.url)).toBe(true);
    await c.close().catch(() => {});
    expect(await inflight).toBe("rejected");
  });
});

// ---------------------------------------------------------------------------
// stdio process behaviour
// ---------------------------------------------------------------------------

function waitExit(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error("child did not exit in time")), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const INIT = `${JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
})}\n`;

describe("stdio-server.ts process behaviour", () => {
  it("pid returns the child's pid and crash exits it with code 1", async () => {
    const transport = new StdioClientTransport({ ...stdioServerCommand(), stderr: "pipe" });
    const client = new ClientV1({ name: "t", version: "1" });
    await client.connect(transport);
    const pid = Number(firstText(await client.callTool({ name: "pid", arguments: {} })));
    expect(pid).toBe(transport.pid);
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    await expect(client.callTool({ name: "crash", arguments: {} })).rejects.toThrow();
    await closed;
    await waitFor(() => !isAlive(pid), 3000, "crashed child to disappear");
  }, 20_000);

  it("exits with code 0 when stdin closes", async () => {
    const { command, args } = stdioServerCommand();
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const firstLine = new Promise<string>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(d.toString())));
    child.stdin.write(INIT);
    expect(JSON.parse(await firstLine)).toMatchObject({ id: 1, result: { serverInfo: { name: "fixture" } } });
    child.stdin.end();
    expect(await waitExit(child, 5000)).toBe(0);
  }, 20_000);

  it("survives a closed stdout (EPIPE/SIGPIPE) and exits cleanly", async () => {
    const { command, args } = stdioServerCommand();
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.destroy();
    child.stdin.write(INIT);
    const code = await waitExit(child, 8000);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Unhandled|Error:/);
  }, 20_000);
});
