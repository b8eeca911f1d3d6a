import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDENTITY_META_KEY } from "../../src/auth/forward-identity.ts";
import { mintToken } from "../../src/auth/token.ts";
import type { Identity } from "../../src/auth/types.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { GatewayConfigError } from "../../src/errors.ts";
import { createGateway } from "../../src/index.ts";
import { McpUpstream } from "../../src/upstreams/mcp-upstream.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { firstText } from "../_helpers.ts";

const SIGNING_KEY = "identity-signing-key-that-is-32-bytes!!";
const seen: { method: string; headers: IncomingHttpHeaders }[] = [];
let upstream: Server;
let upstreamUrl: string;

/** A 2025-era MCP server whose `meta` tool answers with the `_meta` it received; records every request's headers. */
beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.method !== "POST") return void res.writeHead(405).end();
      const message = JSON.parse(body) as { id?: number; method: string; params?: { _meta?: unknown } };
      seen.push({ method: message.method, headers: req.headers });
      if (message.id === undefined) return void res.writeHead(202).end();
      const result =
        message.method === "initialize"
          ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "rec", version: "1" } }
          : message.method === "tools/list"
            ? { tools: [{ name: "meta", inputSchema: { type: "object" } }] }
            : { content: [{ type: "text", text: JSON.stringify(message.params?._meta ?? {}) }] };
      res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "s1" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

const alice: Identity = {
  subject: "alice",
  scopes: ["mcp"],
  claims: Object.freeze({ sub: "alice", email: "alice@example.com", org: { team: "blue" }, groups: ["a", "b"], name: "Alïce\r\nX-Evil: 1" }),
  provider: "jwt",
};

async function withUpstream(forwardIdentity: unknown, run: (upstream: McpUpstream) => Promise<void>): Promise<void> {
  const config = resolveConfig({ upstreams: { rec: { type: "streamable-http", url: upstreamUrl, protocol: "legacy", forwardIdentity } } });
  const mcp = new McpUpstream({ config: config.upstreams[0]!, log: createLogger("silent"), clientInfo: { name: "gw", version: "1" } });
  await mcp.start();
  try {
    await run(mcp);
  } finally {
    await mcp.close();
  }
}
const callMeta = (mcp: McpUpstream, identity?: Identity) =>
  mcp.request({ method: "tools/call", params: { name: "meta", arguments: {}, _meta: { progressToken: 7 } } }, identity ? { identity } : {});
const lastCall = () => seen.filter((s) => s.method === "tools/call").at(-1)!;

describe("identity forwarding (opt-in per upstream)", () => {
  it("sends the selected claims as X-Gateway-* headers, safely encoded, only on requests made for an identity", async () => {
    await withUpstream({ claims: ["sub", "email", "org.team", "groups", "name", "missing"], as: "headers" }, async (mcp) => {
      await callMeta(mcp, alice);
      const { headers } = lastCall();
      expect(headers["x-gateway-sub"]).toBe("alice");
      expect(headers["x-gateway-email"]).toBe("alice@example.com");
      expect(headers["x-gateway-org-team"]).toBe("blue");
      expect(headers["x-gateway-groups"]).toBe('["a","b"]');
      expect(headers["x-gateway-name"]).toBe('"Al\\u00efce\\r\\nX-Evil: 1"');
      expect(headers["x-evil"]).toBeUndefined();
      expect(headers["x-gateway-missing"]).toBeUndefined();
      expect(headers["x-gateway-identity"]).toBeUndefined();
      await callMeta(mcp);
      expect(Object.keys(lastCall().headers).filter((h) => h.startsWith("x-gateway-"))).toEqual([]);
    });
  });

  it("adds a short-lived HS256 identity token bound to the upstream when sign is set", async () => {
    await withUpstream({ claims: ["email"], as: "headers", headerPrefix: "X-Id-", sign: true, signingKey: SIGNING_KEY }, async (mcp) => {
      await callMeta(mcp, alice);
      const token = String(lastCall().headers["x-id-identity"]);
      const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SIGNING_KEY), { issuer: "mcp-gateway", audience: "rec", algorithms: ["HS256"] });
      expect(protectedHeader.alg).toBe("HS256");
      expect(payload).toMatchObject({ sub: "alice", email: "alice@example.com" });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(lastCall().headers["x-id-email"]).toBe("alice@example.com");
    });
  });

  it("puts the claims (and the signed token) in _meta, keeping the request's own _meta", async () => {
    await withUpstream({ claims: ["sub", "org.team"], as: "meta", sign: true, signingKey: SIGNING_KEY }, async (mcp) => {
      const meta = JSON.parse(firstText(await callMeta(mcp, alice))) as Record<string, Record<string, unknown>>;
      expect(meta.progressToken).toBe(7);
      expect(meta[IDENTITY_META_KEY]).toMatchObject({ sub: "alice", "org.team": "blue", token: expect.any(String) });
      expect(Object.keys(lastCall().headers).filter((h) => h.startsWith("x-gateway-"))).toEqual([]);
      const plain = JSON.parse(firstText(await callMeta(mcp))) as Record<string, unknown>;
      expect(plain).toEqual({ progressToken: 7 });
    });
  });

  it("refuses an invalid forwardIdentity config, naming the field", () => {
    const issues = (forwardIdentity: unknown) => {
      try {
        resolveConfig({ upstreams: { rec: { type: "streamable-http", url: upstreamUrl, forwardIdentity } } });
        return [];
      } catch (error) {
        return (error as GatewayConfigError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(issues({ claims: ["sub"], as: "headers", sign: true }).join()).toContain("upstreams.rec.forwardIdentity: `sign: true` needs a `signingKey`");
    expect(issues({ claims: [], as: "meta" }).join()).toContain("upstreams.rec.forwardIdentity.claims");
    expect(issues({ claims: ["sub"], as: "cookies" }).join()).toContain("upstreams.rec.forwardIdentity.as");
    expect(issues({ claims: ["sub"], as: "meta", signingKey: "short" }).join()).toContain("upstreams.rec.forwardIdentity.signingKey");
  });
});

describe("client credentials are never forwarded", () => {
  it("an HTTP upstream never sees the client's Authorization header, only its own configured one", async () => {
    const secret = "client-jwt-secret-that-is-32-bytes-long";
    const gw = await createGateway({
      log: { level: "silent" },
      auth: { jwt: { secret, issuer: "https://iss.test", audience: "gw", algorithms: ["HS256"] } },
      upstreams: {
        rec: { type: "streamable-http", url: upstreamUrl, protocol: "legacy", headers: { Authorization: "Bearer upstream-own-credential" }, forwardIdentity: { claims: ["sub"], as: "headers" } },
      },
    });
    const { url } = await gw.listen({ port: 0 });
    const token = await mintToken({ secret, sub: "alice", iss: "https://iss.test", aud: "gw", expiresIn: "5m" });
    const before = seen.length;
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    const client = new Client({ name: "c", version: "1" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}`, "x-api-key": "client-key" } } }));
      await client.listTools();
      await client.callTool({ name: "rec__meta", arguments: {} });
    } finally {
      await client.close();
      await gw.close();
    }
    const requests = seen.slice(before);
    expect(requests.some((r) => r.method === "tools/call")).toBe(true);
    for (const { headers } of requests) {
      expect(headers.authorization).toBe("Bearer upstream-own-credential");
      expect(JSON.stringify(headers)).not.toContain(token.split(".")[2]!);
      expect(headers["x-api-key"]).toBeUndefined();
    }
  });
});
