import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, GatewayConfigError, type Gateway, type GatewayConfig } from "../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

const SECRET = "server-auth-test-secret-at-least-32-bytes!";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] as ["HS256"] };

let one: LegacyHttpServer;
let gw: Gateway;
let url: string;

const config = (): GatewayConfig => ({
  log: { level: "silent" },
  auth: { jwt },
  upstreams: { one: { type: "streamable-http", url: one.url } },
  servers: {
    public: { auth: false, tools: ["one__whoami"] },
    tokens: { auth: ["jwt"], tools: ["one__echo"] },
  },
  policy: { default: "allow", rules: [{ name: "no-echo-for-anonymous", when: { anonymous: true }, deny: { names: ["*__echo"] } }] },
});

beforeAll(async () => {
  one = await startLegacyHttpServer({ name: "one" });
  gw = await createGateway(config());
  url = (await gw.listen({ port: 0 })).url;
});
afterAll(async () => {
  await gw?.close();
  await one?.close();
});

const initialize = (path: string, token?: string) =>
  fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "a", version: "1" } } }),
  });

describe("authentication per virtual server", () => {
  it("serves a server with auth: false without credentials, while the main endpoint and other servers still need them", async () => {
    const open = await initialize("/servers/public/mcp");
    expect(open.status).toBe(200);
    await open.body?.cancel();
    expect((await initialize("/mcp")).status).toBe(401);
    expect((await initialize("/servers/tokens/mcp")).status).toBe(401);
    const token = await mintToken({ secret: SECRET, sub: "alice", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m" });
    const ok = await initialize("/servers/tokens/mcp", token);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });

  it("refuses a config whose server names an auth provider that does not exist", async () => {
    const bad = { ...config(), servers: { typo: { auth: ["jtw"], tools: ["*"] } } };
    const error = await createGateway(bad).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayConfigError);
    expect(String((error as Error).message)).toMatch(/servers\.typo\.auth\.0: no auth provider named "jtw" \(configured: jwt\)/);
  });
});
