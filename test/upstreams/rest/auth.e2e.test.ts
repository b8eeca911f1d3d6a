/**
 * Credentials to REST APIs: bearer, basic, API key (header and query), custom headers and OAuth2 client
 * credentials (one token for many calls, refreshed after expiry or a 401). Canary secrets never show up in
 * tool results, errors, logs or `/health`, even when the API echoes them back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsola } from "consola";
import type { Client } from "@modelcontextprotocol/client";
import type { GatewayConfig } from "../../../src/config/types.ts";
import { createGateway, type Gateway } from "../../../src/runtime/gateway.ts";
import { connectV2, firstText } from "../../_helpers.ts";
import { json, startApiServer, type ApiServer, type RecordedRequest } from "./_api-server.ts";

const CANARY = {
  token: "canary-bearer-7f3a9c",
  password: "canary-password-51de",
  apiKey: "canary-apikey-c0ffee",
  queryKey: "canary-querykey-b4d5",
  header: "canary-header-0ddba11",
  clientSecret: "canary-client-secret-9e8d",
};
const SECRETS = [...Object.values(CANARY), Buffer.from(`me:${CANARY.password}`).toString("base64")];

const tools = { whoami: { method: "GET" as const, path: "/whoami" }, echo: { method: "GET" as const, path: "/echo" } };

/** Echoes every credential it received, in a 500 body: the worst case for leaks. */
const echo = (req: RecordedRequest) => JSON.stringify({ headers: req.headers, query: req.url.search });

describe("rest upstream: auth and secrets", () => {
  let api: ApiServer;
  let gw: Gateway;
  let client: Client;
  const lines: string[] = [];
  let tokenCount = 0;
  let ttl = 3600;
  const revoked = new Set<string>();

  beforeAll(async () => {
    api = await startApiServer({
      "POST /oauth/token": (req, res) => {
        const form = new URLSearchParams(req.body);
        if (form.get("client_id") !== "gw" || form.get("client_secret") !== CANARY.clientSecret || form.get("grant_type") !== "client_credentials") {
          return json(res, { error: "invalid_client" }, 401);
        }
        json(res, { access_token: `access-token-${++tokenCount}`, token_type: "Bearer", expires_in: ttl, scope: form.get("scope") });
      },
      "GET /whoami": (req, res) => {
        const auth = req.headers.authorization ?? "";
        if (revoked.has(auth)) return json(res, { error: "revoked" }, 401);
        json(res, { authorization: auth, key: req.headers["x-api-key"], custom: req.headers["x-custom"], query: req.url.searchParams.get("api_key") });
      },
      "GET /echo": (req, res) => void res.writeHead(500, { "content-type": "application/json" }).end(echo(req)),
    });
    const config: GatewayConfig = {
      server: { port: 0 },
      network: { allow: ["127.0.0.1"] },
      log: { level: "debug" },
      rest: {
        bearer: { baseUrl: api.url, auth: { type: "bearer", token: "${env.CANARY_TOKEN}" }, tools, retries: false },
        basic: { baseUrl: api.url, auth: { type: "basic", username: "me", password: CANARY.password }, tools, retries: false },
        keyed: { baseUrl: api.url, auth: { type: "apiKey", in: "header", name: "X-Api-Key", value: CANARY.apiKey }, tools, retries: false },
        query: { baseUrl: api.url, auth: { type: "apiKey", in: "query", name: "api_key", value: CANARY.queryKey }, tools, retries: 1 },
        custom: { baseUrl: api.url, auth: { type: "headers", headers: { "X-Custom": CANARY.header } }, tools, retries: false },
        oauth: {
          baseUrl: api.url,
          auth: { type: "oauth2", tokenUrl: `${api.url}/oauth/token`, clientId: "gw", clientSecret: CANARY.clientSecret, scope: "read" },
          tools,
          retries: false,
        },
      },
    };
    process.env.CANARY_TOKEN = CANARY.token;
    const log = createConsola({ level: 4, reporters: [{ log: (entry) => void lines.push(entry.args.map(String).join(" ")) }] });
    gw = await createGateway(config, { log });
    const listener = await gw.listen({ port: 0 });
    client = await connectV2(`${listener.url}/mcp`);
  });

  afterAll(async () => {
    delete process.env.CANARY_TOKEN;
    await client?.close();
    await gw?.close();
    await api?.close();
  });

  const whoami = async (apiName: string) => (await client.callTool({ name: `${apiName}__whoami`, arguments: {} })).structuredContent as Record<string, unknown>;

  it("sends bearer, basic, API key (header and query) and custom header credentials", async () => {
    expect((await whoami("bearer")).authorization).toBe(`Bearer ${CANARY.token}`);
    expect((await whoami("basic")).authorization).toBe(`Basic ${Buffer.from(`me:${CANARY.password}`).toString("base64")}`);
    expect((await whoami("keyed")).key).toBe(CANARY.apiKey);
    expect((await whoami("query")).query).toBe(CANARY.queryKey);
    expect((await whoami("custom")).custom).toBe(CANARY.header);
  });

  it("fetches one OAuth2 token for many concurrent calls, then a new one once it expires", async () => {
    tokenCount = 0;
    ttl = 3600;
    const results = await Promise.all(Array.from({ length: 8 }, () => whoami("oauth")));
    expect(results.every((r) => r.authorization === "Bearer access-token-1")).toBe(true);
    expect(tokenCount).toBe(1);
    expect(api.requests.find((r) => r.url.pathname === "/oauth/token")!.body).toContain("scope=read");
    // A revoked token (401) is dropped and fetched again once; the call succeeds with the new token.
    revoked.add("Bearer access-token-1");
    ttl = 0.001; // the next token is stale at once: every call needs a fresh one
    expect((await whoami("oauth")).authorization).toBe("Bearer access-token-2");
    expect((await whoami("oauth")).authorization).toBe("Bearer access-token-3");
    expect(tokenCount).toBe(3);
    expect(gw.health().upstreams.oauth!.rest).toMatchObject({ tokenRequests: 3 });
  });

  it("masks every secret the API echoes back in error results, and keeps them out of logs and /health", async () => {
    for (const name of ["bearer", "basic", "keyed", "query", "custom", "oauth"]) {
      const result = await client.callTool({ name: `${name}__echo`, arguments: {} });
      expect(result.isError).toBe(true);
      const text = firstText(result);
      expect(text).toMatch(/^HTTP 500/);
      for (const secret of SECRETS) expect(text, `${name} result`).not.toContain(secret);
    }
    const health = JSON.stringify(await (await gw.fetch(new Request("http://gw/health"))).json());
    const logged = lines.join("\n");
    for (const secret of SECRETS) {
      expect(health).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(logged.length).toBeGreaterThan(0);
  });

  it("names the token endpoint, never the client secret, when the token request fails", async () => {
    const bad = await createGateway(
      {
        network: { allow: ["127.0.0.1"] },
        rest: { bad: { baseUrl: api.url, auth: { type: "oauth2", tokenUrl: `${api.url}/oauth/token`, clientId: "nope", clientSecret: CANARY.clientSecret }, tools } },
      },
      { log: createConsola({ level: 4, reporters: [{ log: (entry) => void lines.push(entry.args.map(String).join(" ")) }] }) },
    );
    const badClient = await connectV2(`${(await bad.listen({ port: 0 })).url}/mcp`);
    try {
      const error = await badClient.callTool({ name: "bad__whoami", arguments: {} }).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(/OAuth2 token request to 127\.0\.0\.1:\d+ failed with HTTP 401/);
      expect(error?.message).not.toContain(CANARY.clientSecret);
      expect(lines.join("\n")).not.toContain(CANARY.clientSecret);
    } finally {
      await badClient.close();
      await bad.close();
    }
  });
});
