/**
 * A2A agents as MCP tools: real A2A agents (the official SDK's server on 127.0.0.1), a real gateway, and a
 * real SDK v1 MCP client over streamable HTTP. Skills become namespaced tools; task states, streamed
 * updates, cancellation and outages surface as MCP results, progress, and health.
 */
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, type CallToolResult, type Progress } from "@modelcontextprotocol/sdk/types.js";
import type { GatewayConfig } from "../../src/config/types.ts";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { endSession, firstText, waitFor, within } from "../_helpers.ts";
import { startA2aAgent, type A2aAgentServer } from "../fixtures/a2a-agent.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The `_meta.a2a` ids a result carries. */
function a2aMeta(result: unknown): { taskId?: string; contextId?: string; state?: string } {
  return ((result as { _meta?: { a2a?: object } })._meta?.a2a ?? {}) as { taskId?: string; contextId?: string; state?: string };
}

describe("a2a upstream", () => {
  let agent: A2aAgentServer;
  let plain: A2aAgentServer;
  let mcp: LegacyHttpServer;
  let gw: Gateway;
  let url: string;
  let client: Client;
  let downPort: number;

  beforeAll(async () => {
    [agent, plain, mcp, downPort] = await Promise.all([
      startA2aAgent(),
      startA2aAgent({ streaming: false }),
      startLegacyHttpServer({ name: "mcp-fixture" }),
      freePort(),
    ]);
    const config: GatewayConfig = {
      server: { port: 0 },
      upstreams: {
        agent: { type: "a2a", url: agent.cardUrl, headers: { "x-agent-key": "k1" } },
        base: { type: "a2a", url: agent.baseUrl },
        solo: { type: "a2a", url: `${agent.baseUrl}/`, skills: "single" },
        plain: { type: "a2a", url: plain.baseUrl },
        quick: { type: "a2a", url: agent.cardUrl, timeout: 300 },
        down: { type: "a2a", url: `http://127.0.0.1:${downPort}/agent`, restart: { initialDelayMs: 20, maxDelayMs: 50 } },
        mcp: { type: "streamable-http", url: mcp.url },
      },
    };
    gw = await createGateway(config, { log: createLogger("silent") });
    const listener = await gw.listen({ port: 0 });
    url = `${listener.url}/mcp`;
    client = new Client({ name: "a2a-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: "Bearer client-secret" } } }));
  });

  afterAll(async () => {
    await endSession(client);
    await gw?.close();
    await Promise.all([agent?.close(), plain?.close(), mcp?.close()]);
  });

  it("lists every skill on the agent card as a namespaced tool with the message schema and openWorldHint", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const skill of ["echo", "count", "fail", "ask", "wait", "greet", "files"]) expect(names).toContain(`agent__${skill}`);
    const echo = tools.find((t) => t.name === "agent__echo")!;
    expect(echo.description).toContain("The echo skill.");
    expect(echo.description).toContain("echo hello");
    expect(echo.inputSchema).toMatchObject({ type: "object", required: ["message"], properties: { message: { type: "string" }, contextId: { type: "string" } } });
    expect(echo.annotations).toMatchObject({ openWorldHint: true });
    expect(echo._meta).toMatchObject({ a2a: { agent: { name: "Test Agent" }, skill: "echo" } });
  });

  it("returns the text artifact of a task that completes at once", async () => {
    const result = (await client.callTool({ name: "agent__echo", arguments: { message: "hi" } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(firstText(result)).toBe("echo: hi");
    expect(a2aMeta(result)).toMatchObject({ state: "completed", taskId: expect.any(String), contextId: expect.any(String) });
  });

  it("turns streamed status updates into progress notifications and a data part into structuredContent", async () => {
    const progress: Progress[] = [];
    const result = (await client.callTool({ name: "agent__count", arguments: { message: "go" } }, undefined, {
      onprogress: (p) => progress.push(p),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ count: 3 });
    expect(firstText(result)).toBe(JSON.stringify({ count: 3 }));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((p) => p.message)).toEqual(expect.arrayContaining(["step 1", "step 2", "step 3"]));
    const values = progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it("reports a failed task as an isError result with the agent's reason", async () => {
    const result = (await client.callTool({ name: "agent__fail", arguments: { message: "x" } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(firstText(result)).toContain("boom: cannot do that");
    expect(a2aMeta(result).state).toBe("failed");
  });

  it("reports input-required as isError naming the taskId and contextId, and continues the task when they come back", async () => {
    const asked = (await client.callTool({ name: "agent__ask", arguments: { message: "weather?" } })) as CallToolResult;
    expect(asked.isError).toBe(true);
    const { taskId, contextId, state } = a2aMeta(asked);
    expect(state).toBe("input-required");
    expect(firstText(asked)).toContain("Which city?");
    expect(firstText(asked)).toContain(taskId!);
    expect(firstText(asked)).toContain(contextId!);

    const answered = (await client.callTool({ name: "agent__ask", arguments: { message: "Paris", taskId, contextId } })) as CallToolResult;
    expect(answered.isError).toBeFalsy();
    expect(firstText(answered)).toBe("weather in Paris: sunny");
    expect(a2aMeta(answered)).toMatchObject({ taskId, state: "completed" });
  });

  it("reports an agent's protocol error (an unknown task) as an isError result", async () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {}); // the SDK's server logs the error
    onTestFinished(() => quiet.mockRestore());
    const result = (await client.callTool({ name: "agent__ask", arguments: { message: "Paris", taskId: "no-such-task" } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(firstText(result)).toMatch(/refused/);
  });

  it("returns a direct message reply (no task) as content", async () => {
    const result = (await client.callTool({ name: "agent__greet", arguments: { message: "ada" } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(firstText(result)).toBe("hello, ada");
  });

  it("maps a file URL to a resource link and file bytes to an embedded resource", async () => {
    const result = (await client.callTool({ name: "agent__files", arguments: { message: "x" } })) as CallToolResult;
    expect(result.content).toEqual([
      { type: "resource_link", uri: "https://files.example/report.pdf", name: "report.pdf", mimeType: "application/pdf" },
      { type: "resource", resource: { uri: expect.stringMatching(/\/table\.csv$/), mimeType: "text/csv", text: "a,b\n1,2\n" } },
    ]);
  });

  it("cancels the agent's task when the client aborts the call", async () => {
    const before = new Set(agent.started.keys());
    const abort = new AbortController();
    const call = client.callTool({ name: "agent__wait", arguments: { message: "x" } }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort(),
    });
    await expect(within(call, 5000, "the aborted call")).rejects.toThrow();
    const taskId = [...agent.started].find(([id, skill]) => skill === "wait" && !before.has(id))?.[0];
    expect(taskId).toBeDefined();
    await waitFor(() => agent.canceled.has(taskId!), 5000, "the agent to see the task cancelled");
  });

  it("fails a call after the per-call timeout with a JSON-RPC error and cancels the task", async () => {
    const before = new Set(agent.canceled);
    const started = Date.now();
    const error = await within(
      client.callTool({ name: "quick__wait", arguments: { message: "x" } }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      "the timed-out call",
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toMatch(/did not answer tools\/call within 300 ms/);
    expect(Date.now() - started).toBeLessThan(4000);
    await waitFor(() => agent.canceled.size > before.size, 5000, "the agent to see the timed-out task cancelled");
  });

  it("polls the task of an agent without streaming until it settles, and continues it when asked", async () => {
    const result = (await client.callTool({ name: "plain__count", arguments: { message: "go" } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ count: 3 });
    expect(firstText(await client.callTool({ name: "plain__echo", arguments: { message: "p" } }))).toBe("echo: p");
    const asked = await client.callTool({ name: "plain__ask", arguments: { message: "weather?" } });
    const { taskId, contextId } = a2aMeta(asked);
    expect(a2aMeta(asked).state).toBe("input-required");
    const answered = await client.callTool({ name: "plain__ask", arguments: { message: "Oslo", taskId, contextId } });
    expect(firstText(answered)).toBe("weather in Oslo: sunny");
  });

  it("reads the card from the agent's base URL, and offers one tool for the agent with skills: single", async () => {
    expect(firstText(await client.callTool({ name: "base__echo", arguments: { message: "b" } }))).toBe("echo: b");
    const { tools } = await client.listTools();
    const solo = tools.filter((t) => t.name.startsWith("solo__"));
    expect(solo.map((t) => t.name)).toEqual(["solo__Test_Agent"]);
    expect(solo[0]!.description).toContain("Skills:");
    expect(firstText(await client.callTool({ name: "solo__Test_Agent", arguments: { message: "s" } }))).toBe("echo: s");
  });

  it("sends the configured headers to the agent and never the client's credentials", async () => {
    await client.callTool({ name: "agent__echo", arguments: { message: "h" } });
    expect(agent.requests.some((h) => h["x-agent-key"] === "k1")).toBe(true);
    expect(agent.requests.every((h) => h.authorization === undefined)).toBe(true);
  });

  it("reports an agent that is down at start in /health while every other upstream serves", async () => {
    const health = (await (await fetch(url.replace(/\/mcp$/, "/health"))).json()) as ReturnType<Gateway["health"]>;
    expect(health.status).toBe("degraded");
    expect(health.upstreams.down).toMatchObject({ type: "a2a", state: "restarting", tools: 0 });
    expect(health.upstreams.down!.lastError).toBeTruthy();
    expect(health.upstreams.agent).toMatchObject({ state: "connected", protocolVersion: "1.0", tools: 7 });
    expect(firstText(await client.callTool({ name: "mcp__whoami", arguments: {} }))).toBe("mcp-fixture");
    expect(firstText(await client.callTool({ name: "agent__echo", arguments: { message: "still" } }))).toBe("echo: still");
  });

  it("brings an agent that starts late into the catalog, and takes it out when it goes away", async () => {
    const late = await startA2aAgent({ port: downPort });
    try {
      await waitFor(() => gw.health().upstreams.down!.state === "connected" && gw.health().upstreams.down!.tools === 7, 5000, "the late agent");
      expect(firstText(await client.callTool({ name: "down__echo", arguments: { message: "late" } }))).toBe("echo: late");
    } finally {
      await late.close();
    }
    const error = await client.callTool({ name: "down__echo", arguments: { message: "gone" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    await waitFor(() => gw.health().upstreams.down!.state === "restarting", 5000, "the agent to be marked as restarting");
  });

  it("cancels the agent's tasks in flight when the gateway closes", async () => {
    const before = new Set(agent.started.keys());
    const own = await createGateway({ upstreams: { agent: { type: "a2a", url: agent.cardUrl } } }, { log: createLogger("silent") });
    const listener = await own.listen({ port: 0 });
    const ownClient = new Client({ name: "a2a-close", version: "1" });
    await ownClient.connect(new StreamableHTTPClientTransport(new URL(`${listener.url}/mcp`)));
    let started!: () => void;
    const working = new Promise<void>((resolve) => (started = resolve));
    const call = ownClient.callTool({ name: "agent__wait", arguments: { message: "x" } }, undefined, { onprogress: () => started() });
    call.catch(() => {});
    await within(working, 5000, "the wait task to start");
    await within(own.close(), 5000, "the gateway to close");
    await ownClient.close().catch(() => {});
    const taskId = [...agent.started].find(([id, skill]) => skill === "wait" && !before.has(id))?.[0];
    expect(taskId).toBeDefined();
    expect(agent.canceled.has(taskId!)).toBe(true);
  });

  it("marks an unreachable agent failed once its retries are spent", async () => {
    const port = await freePort();
    const lone = await createGateway(
      { upstreams: { gone: { type: "a2a", url: `http://127.0.0.1:${port}`, restart: { maxRetries: 0 } } } },
      { log: createLogger("silent") },
    );
    try {
      expect(lone.health().upstreams.gone).toMatchObject({ state: "failed", tools: 0 });
    } finally {
      await lone.close();
    }
  });
});
