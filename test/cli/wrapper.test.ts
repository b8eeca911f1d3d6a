/**
 * `gateway wrapper`: a stdio MCP server in front of a gateway, configured from the environment only (as a desktop
 * client's JSON config would), with every message type forwarded, reconnect after the gateway restarts, and timeouts.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CreateMessageRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../../src/auth/token.ts";
import { resolveWrapperSettings } from "../../src/cli/wrapper.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { firstText, isAlive, waitFor, within } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";
import { bin } from "./translate-process.ts";

const SECRET = "a-wrapper-test-secret-that-is-32-bytes-long";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] };

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
});

async function gateway(name: string, options: { auth?: boolean; port?: number } = {}): Promise<{ gw: Gateway; url: string; port: number }> {
  const { command, args } = stdioServerCommand({ name });
  const gw = await createGateway({ log: { level: "silent" }, ...(options.auth ? { auth: { jwt } } : {}), upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
  const { url } = await gw.listen({ port: options.port ?? 0 });
  cleanup.push(() => gw.close());
  return { gw, url, port: Number(new URL(url).port) };
}

/** A desktop-style client: `command` + `args` + `env`, nothing else. */
async function desktop(env: Record<string, string>): Promise<{ client: Client; pid: number }> {
  const base = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === "string"));
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, "wrapper"], env: { ...base, ...env }, stderr: "ignore" });
  const client = new Client({ name: "desktop", version: "1" }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({ role: "assistant", model: "m", content: { type: "text", text: "from the desktop" } }));
  await within(client.connect(transport), 20_000, "the wrapper to connect");
  cleanup.push(() => client.close());
  return { client, pid: transport.pid! };
}

describe("resolveWrapperSettings", () => {
  it("reads the environment, lets flags win, and guesses the transport from the URL", () => {
    const env = { MCP_GATEWAY_URL: "http://127.0.0.1:4444/servers/dev/mcp", MCP_GATEWAY_TOKEN: "t0k", MCP_TIMEOUT: "30" };
    const fromEnv = resolveWrapperSettings({}, env);
    expect(fromEnv).toMatchObject({ kind: "streamable-http", timeoutMs: 30_000, reconnectAttempts: 5, logLevel: "warn", headers: { authorization: "Bearer t0k" } });
    expect(resolveWrapperSettings({ url: "http://127.0.0.1:4444/ws", timeout: "0" }, env)).toMatchObject({ kind: "ws", timeoutMs: 0 });
    expect(resolveWrapperSettings({ url: "http://127.0.0.1:4444/sse" }, {}).kind).toBe("sse");
    expect(resolveWrapperSettings({ url: "http://h/mcp", header: ["X-Team: a"] }, {}).headers).toEqual({ "x-team": "a" });
  });

  it("names the missing or bad setting", () => {
    expect(() => resolveWrapperSettings({}, {})).toThrow(/pass --url or set MCP_GATEWAY_URL/);
    expect(() => resolveWrapperSettings({}, { MCP_GATEWAY_URL: "http://h/mcp", MCP_TIMEOUT: "soon" })).toThrow(/--timeout must be seconds/);
    expect(() => resolveWrapperSettings({ transport: "pigeon", url: "http://h/mcp" }, {})).toThrow(/--transport must be auto, streamable-http, sse or ws/);
  });
});

describe("--help of the bridge commands", () => {
  it("documents every flag of translate and wrapper with an example", async () => {
    for (const command of [(await import("../../src/cli/translate.ts")).default, (await import("../../src/cli/wrapper.ts")).default]) {
      const args = Object.entries((command as { args: Record<string, { description: string }> }).args);
      expect(args.length).toBeGreaterThan(5);
      for (const [name, arg] of args) expect(`${name}: ${arg.description}`).toMatch(new RegExp(`e\\.g\\. .*--${name}\\b`));
    }
  });
});

describe("gateway wrapper", () => {
  it("fronts a token-protected gateway from env vars alone and forwards sampling back to the desktop client", async () => {
    const { url } = await gateway("remote", { auth: true });
    const token = await mintToken({ secret: SECRET, sub: "desk", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope: "tools" });
    const { client, pid } = await desktop({ MCP_GATEWAY_URL: `${url}/mcp`, MCP_GATEWAY_TOKEN: token });
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("remote");
    expect(firstText(await client.callTool({ name: "sample", arguments: { prompt: "hi" } }))).toBe("sampled:from the desktop");
    await client.close();
    await waitFor(() => !isAlive(pid), 5000, "the wrapper to exit with its client");
  });

  it("reconnects when the gateway restarts and re-initializes transparently", async () => {
    const first = await gateway("first");
    const { client } = await desktop({ MCP_GATEWAY_URL: `${first.url}/mcp`, MCP_TIMEOUT: "10" });
    expect(firstText(await client.callTool({ name: "whoami", arguments: {} }))).toBe("first");
    await first.gw.close();
    await gateway("second", { port: first.port });
    expect(firstText(await within(client.callTool({ name: "whoami", arguments: {} }), 15_000, "a call after the restart"))).toBe("second");
  });

  it("answers a request that gets no answer nor progress within MCP_TIMEOUT with an error, and cancels it upstream", async () => {
    const { url } = await gateway("sluggish");
    const { client } = await desktop({ MCP_GATEWAY_URL: `${url}/mcp`, MCP_TIMEOUT: "1" });
    const started = Date.now();
    await expect(client.callTool({ name: "slow", arguments: { steps: 1, ms: 8000 } })).rejects.toThrow(/timed out after 1000 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(
      async () => (JSON.parse(firstText(await client.callTool({ name: "stats", arguments: {} }))) as { cancelled: number }).cancelled === 1,
      5000,
      "the upstream to see the cancellation",
    );
  });
});
