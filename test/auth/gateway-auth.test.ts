import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, definePlugin, type Gateway } from "../../src/index.ts";
import { firstText } from "../_helpers.ts";

const SECRET = "a-test-secret-that-is-at-least-32-bytes-long!";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "mcp-gateway", algorithms: ["HS256"] };
const token = (sub: string) => mintToken({ secret: SECRET, sub, iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m", scope: "tools" });

/** A minimal 2025-era MCP server whose only tool reports the Authorization header it received. */
let upstream: Server;
let upstreamUrl: string;
const seenAuthorization: string[] = [];

let gw: Gateway;
let url: string;
const subjects: string[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seenAuthorization.push(String(req.headers.authorization ?? "none"));
      if (req.method !== "POST") return void res.writeHead(405).end();
      const message = JSON.parse(body) as { id?: number; method: string };
      if (message.id === undefined) return void res.writeHead(202).end();
      const result =
        message.method === "initialize"
          ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } }
          : message.method === "tools/list"
            ? { tools: [{ name: "whoami", inputSchema: { type: "object" } }] }
            : { content: [{ type: "text", text: String(req.headers.authorization ?? "none") }] };
      res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "raw-session" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  const witness = definePlugin({ name: "witness", hooks: { "tools/call:before": (_p, ctx) => void subjects.push(ctx.identity?.subject ?? "anonymous") } });
  gw = await createGateway({
    log: { level: "silent" },
    auth: { jwt },
    plugins: [witness],
    upstreams: { raw: { type: "streamable-http", url: upstreamUrl, protocol: "legacy" } },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

const initialize = (authorization?: string) =>
  fetch(`${url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });

describe("authentication on the MCP routes", () => {
  it("answers a request without a token with 401 and a Bearer challenge", async () => {
    const response = await initialize();
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    const sse = await fetch(`${url}/sse`);
    expect(sse.status).toBe(401);
  });

  it("answers a bad or expired token with 401 invalid_token and never echoes it", async () => {
    const forged = await mintToken({ secret: "another-secret-that-is-also-32-bytes-long", sub: "mallory", iss: jwt.issuer, aud: jwt.audience, expiresIn: "5m" });
    const response = await initialize(`Bearer ${forged}`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    const text = await response.text();
    expect(text).not.toContain(forged.split(".")[2]!);
  });

  it("serves v1 and v2 clients with a valid token, hands the identity to plugins, and never forwards the token", async () => {
    const alice = await token("alice");
    const v1 = new V1Client({ name: "v1", version: "1" });
    await v1.connect(new V1HttpTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    expect(firstText(await v1.callTool({ name: "raw__whoami", arguments: {} }))).toBe("none");
    await v1.close();

    const bob = await token("bob");
    const v2 = new Client({ name: "v2", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await v2.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bob}` } } }));
    expect(v2.getProtocolEra()).toBe("modern");
    expect(firstText(await v2.callTool({ name: "raw__whoami", arguments: {} }))).toBe("none");
    await v2.close();

    expect(subjects).toEqual(["alice", "bob"]);
    expect(seenAuthorization.every((value) => value === "none")).toBe(true);
  });

  it("binds a 2025-era session to the identity that opened it", async () => {
    const alice = await token("alice");
    const opened = await initialize(`Bearer ${alice}`);
    const sessionId = opened.headers.get("mcp-session-id")!;
    await opened.text();
    const asBob = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${await token("bob")}`,
        "mcp-session-id": sessionId,
        "mcp-protocol-version": "2025-11-25",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(asBob.status).toBe(404);
  });
});
