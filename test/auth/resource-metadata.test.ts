import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resourceMetadataUrl } from "../../src/auth/resource-metadata.ts";
import { mintToken } from "../../src/auth/token.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { GatewayConfigError } from "../../src/errors.ts";
import { createGateway, type Gateway } from "../../src/index.ts";

const SECRET = "resource-test-secret-that-is-32-bytes-long";
const RESOURCE = "https://gw.example.com/";
const resource = { url: RESOURCE, authorizationServers: ["https://auth.example.com"], scopesSupported: ["mcp", "mcp:admin"], requiredScopes: ["mcp"] };
const jwt = { secret: SECRET, issuer: "https://auth.example.com", algorithms: ["HS256"] };

let gw: Gateway;
let url: string;

beforeAll(async () => {
  gw = await createGateway({ log: { level: "silent" }, auth: { jwt, resource }, servers: { support: { description: "support desk" } } } as never);
  url = (await gw.listen({ port: 0 })).url;
});
afterAll(() => gw?.close());

const post = (authorization?: string) =>
  fetch(`${url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
const token = (aud: string, scope?: string) => mintToken({ secret: SECRET, sub: "alice", iss: jwt.issuer, aud, expiresIn: "5m", scope });

describe("OAuth protected resource (RFC 9728 / RFC 8707)", () => {
  it("serves the metadata document publicly, also for a virtual server path", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/servers/support/mcp"]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(await response.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: ["https://auth.example.com"],
        bearer_methods_supported: ["header"],
        scopes_supported: ["mcp", "mcp:admin"],
      });
    }
  });

  it("answers 401 with resource_metadata in the Bearer challenge, with and without a bad token", async () => {
    const missing = await post();
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource"');
    const bad = await post("Bearer not-a-jwt");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="https:\/\/gw\.example\.com\/\.well-known\/oauth-protected-resource"$/);
  });

  it("points a virtual server's 401 at that server's metadata", async () => {
    const response = await fetch(`${url}/servers/support/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource/servers/support/mcp"');
  });

  it("binds the audience to the resource URL: a token for another audience is refused", async () => {
    const other = await post(`Bearer ${await token("https://other.example.com/", "mcp")}`);
    expect(other.status).toBe(401);
    expect(other.headers.get("www-authenticate")).toContain("token audience is not accepted");
    const ours = await post(`Bearer ${await token(RESOURCE, "mcp")}`);
    expect(ours.status).toBe(200);
  });

  it("answers 403 insufficient_scope naming the required scopes when a token lacks them", async () => {
    const response = await post(`Bearer ${await token(RESOURCE, "other")}`);
    expect(response.status).toBe(403);
    const challenge = response.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer error="insufficient_scope"/);
    expect(challenge).toContain('scope="mcp"');
    expect(challenge).toContain('resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource"');
  });

  it("has no metadata (404) when auth.resource is not configured", async () => {
    const plain = await createGateway({ log: { level: "silent" } });
    try {
      expect((await plain.fetch(new Request("http://127.0.0.1/.well-known/oauth-protected-resource"))).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("auth.resource config", () => {
  it("refuses a JWT audience other than the resource URL, and invalid resource fields, naming the path", () => {
    const paths = (input: unknown) => {
      try {
        resolveConfig(input);
      } catch (error) {
        if (error instanceof GatewayConfigError) return error.issues.map((i) => i.path);
        throw error;
      }
      return [];
    };
    expect(paths({ auth: { jwt: { ...jwt, audience: "gw" }, resource } })).toContain("auth.jwt.audience");
    expect(paths({ auth: { jwt: { ...jwt, audience: RESOURCE }, resource } })).toEqual([]);
    expect(paths({ auth: { resource: { url: "ftp://x", authorizationServers: [] } } })).toEqual(expect.arrayContaining(["auth.resource.url", "auth.resource.authorizationServers"]));
    expect(paths({ auth: { resource: { ...resource, extra: 1 } } })).toContain("auth.resource.extra");
  });

  it("derives RFC 9728 metadata URLs with the resource path appended", () => {
    expect(resourceMetadataUrl({ url: "https://gw.example.com/mcp", authorizationServers: [] })).toBe("https://gw.example.com/.well-known/oauth-protected-resource/mcp");
    expect(resourceMetadataUrl({ url: "https://gw.example.com/", authorizationServers: [] }, "sup")).toBe("https://gw.example.com/.well-known/oauth-protected-resource/servers/sup/mcp");
  });
});
