import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

const SECRET = "rbac-test-secret-that-is-at-least-32-bytes";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] as ["HS256"] };
const token = (sub: string, scope: string) => mintToken({ secret: SECRET, sub, iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope });

let one: LegacyHttpServer;
let two: LegacyHttpServer;
let gw: Gateway;
let url: string;

beforeAll(async () => {
  [one, two] = await Promise.all([startLegacyHttpServer({ name: "one" }), startLegacyHttpServer({ name: "two" })]);
  gw = await createGateway({
    log: { level: "silent" },
    auth: { jwt },
    upstreams: { one: { type: "streamable-http", url: one.url }, two: { type: "streamable-http", url: two.url } },
    servers: { research: { tools: ["one__*", "two__echo"], prompts: ["*"], resources: ["*"] } },
    policy: {
      default: "deny",
      rules: [
        { name: "admins", when: { scopes: ["admin"] }, allow: {} },
        { name: "readers", when: { scopes: ["reader"] }, allow: { methods: ["tools/call", "prompts/get", "resources/read"], names: ["*__echo", "*__whoami", "*__greet", "fixture://*"] } },
        { name: "no-two-for-readers", when: { scopes: ["reader"] }, deny: { upstreams: ["two"] } },
        { name: "research-only", when: { scopes: ["researcher"] }, allow: { servers: ["research"] } },
        { name: "research-no-slow", when: { scopes: ["researcher"] }, deny: { names: ["*__slow"] } },
      ],
    },
  });
  url = (await gw.listen({ port: 0 })).url;
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([one?.close(), two?.close()]);
});

async function connect(endpoint: string, bearer: string): Promise<V1Client> {
  const client = new V1Client({ name: "rbac", version: "1" });
  await client.connect(new V1HttpTransport(new URL(endpoint), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

/** What a call tells about access: "unknown" is exactly the error a missing tool gets; anything else means it was routed. */
async function outcome(client: V1Client, name: string): Promise<"unknown" | "routed"> {
  try {
    await client.callTool({ name, arguments: {} });
    return "routed";
  } catch (error) {
    return new RegExp(`Unknown tool: ${name}$`).test(String((error as Error).message)) ? "unknown" : "routed";
  }
}

/** Every tool of the whole catalog, as an all-powerful identity sees it. */
async function allTools(): Promise<string[]> {
  const admin = await connect(`${url}/mcp`, await token("root", "admin"));
  try {
    return (await admin.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await admin.close();
  }
}

describe("RBAC consistency: tools/list ⇔ tools/call", () => {
  const identities = [
    { sub: "root", scope: "admin", endpoint: "/mcp" },
    { sub: "rita", scope: "reader", endpoint: "/mcp" },
    { sub: "ralf", scope: "researcher", endpoint: "/mcp" },
    { sub: "ralf", scope: "researcher", endpoint: "/servers/research/mcp" },
    { sub: "nobody", scope: "none", endpoint: "/mcp" },
  ];

  for (const who of identities) {
    it(`${who.sub} (${who.scope}) on ${who.endpoint}: every listed tool is callable, every other one is indistinguishable from a missing one`, async () => {
      const catalog = await allTools();
      const client = await connect(`${url}${who.endpoint}`, await token(who.sub, who.scope));
      try {
        const listed = new Set((await client.listTools()).tools.map((t) => t.name));
        // Renamed/virtual names are listed too: check both sets.
        const names = [...new Set([...catalog, ...listed, "no__such_tool"])];
        const mismatches: string[] = [];
        for (const name of names) {
          const got = await outcome(client, name);
          if ((got === "routed") !== listed.has(name)) mismatches.push(`${name}: listed=${listed.has(name)} call=${got}`);
        }
        expect(mismatches).toEqual([]);
        if (who.scope === "admin") expect(listed.size).toBe(catalog.length);
        if (who.scope === "reader") expect([...listed].sort()).toEqual(["one__echo", "one__whoami"]);
        if (who.scope === "researcher" && who.endpoint === "/mcp") expect(listed.size).toBe(0);
        if (who.scope === "researcher" && who.endpoint !== "/mcp") expect([...listed]).not.toContain("one__slow");
        if (who.scope === "none") expect(listed.size).toBe(0);
      } finally {
        await client.close();
      }
    });
  }

  it("filters prompts and resources with the same rules", async () => {
    const client = await connect(`${url}/mcp`, await token("rita", "reader"));
    try {
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(["one__greet"]);
      expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(["fixture://readme"]);
      await expect(client.getPrompt({ name: "two__greet", arguments: { name: "x" } })).rejects.toThrow(/Unknown prompt: two__greet/);
      await expect(client.setLoggingLevel("debug")).rejects.toThrow(/Not allowed/);
    } finally {
      await client.close();
    }
  });

  it("explains each decision with the rule that made it", async () => {
    const reader = await gw.explain({ token: await token("rita", "reader") }, "tools/call", "two__echo");
    expect(reader).toMatchObject({ allow: false, upstream: "two" });
    expect(reader.rule).toMatch(/no-two-for-readers/);
    const researcher = await gw.explain({ claims: { sub: "ralf", scope: "researcher" } }, "tools/call", "one__echo", "research");
    expect(researcher).toMatchObject({ allow: true });
    expect(researcher.rule).toMatch(/research-only/);
  });
});
