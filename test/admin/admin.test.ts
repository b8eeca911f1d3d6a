import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway, type GatewayConfig } from "../../src/index.ts";
import { connectV1, connectV2, firstText, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";
import { postgresDatabase, sqliteDatabase, type TestDatabase } from "./_db.ts";
import { createSecretBox } from "../../src/auth/secret-box.ts";
import { openDatabase } from "../../src/storage/database.ts";
import { exportCatalog } from "../../src/storage/snapshot.ts";

const TOKEN = "admin-token-0123456789abcdef";
const BOX = createSecretBox([{ kid: "test", key: randomBytes(32) }]);
const CANARY = "canary-secret-7f3a9c1e";

let one: LegacyHttpServer;
/** A plain REST API (not MCP): GET /hello/{who} → { greeting }. */
let api: Server;
let apiUrl: string;
beforeAll(async () => {
  one = await startLegacyHttpServer({ name: "one" });
  api = createServer((req, res) => {
    const who = decodeURIComponent(req.url?.split("/")[2] ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ greeting: `hello ${who}` }));
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await one?.close();
  await new Promise((resolve) => api?.close(resolve));
});

function config(db: string): GatewayConfig {
  return {
    log: { level: "silent" },
    storage: { db },
    admin: { token: TOKEN, users: { ops: "correct horse battery" } },
    network: { allow: ["127.0.0.1"] },
    upstreams: { one: { type: "streamable-http", url: one.url } },
    servers: { declared: { tools: ["one__add"] } },
    prompts: { welcome: { arguments: [{ name: "who", required: true }], template: "Hello {{ who }}" } },
  };
}

async function start(db: string): Promise<{ gw: Gateway; url: string }> {
  const gw = await createGateway(config(db), { secretBox: BOX });
  return { gw, url: (await gw.listen({ port: 0 })).url };
}

function admin(url: string, auth = `Bearer ${TOKEN}`) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/admin${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get("content-type") ?? "", headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
  };
}

async function toolNames(url: string): Promise<string[]> {
  const client = await connectV1(url);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

function adminSuite(name: string, open: () => Promise<TestDatabase | undefined>) {
  describe(`admin API (${name})`, () => {
    let db: TestDatabase;
    let gw: Gateway;
    let url: string;
    let call: ReturnType<typeof admin>;

    beforeAll(async () => {
      const opened = await open();
      if (!opened) throw new Error(`${name} is unreachable`);
      db = opened;
      ({ gw, url } = await start(db.url));
      call = admin(url);
    });
    afterAll(async () => {
      await gw?.close();
      await db?.drop();
    });

    it("refuses requests without or with wrong credentials with a 401 problem, and accepts basic auth", async () => {
      const none = await admin(url, "")("GET", "/servers");
      expect(none.status).toBe(401);
      expect(none.type).toBe("application/problem+json");
      expect(none.json).toMatchObject({ type: "urn:mcp-gateway:problem:unauthorized", status: 401 });
      expect(none.headers.get("www-authenticate")).toMatch(/Bearer realm="gateway-admin", Basic/);
      expect((await admin(url, "Bearer wrong-token-wrong-token")("GET", "/servers")).status).toBe(401);
      expect((await admin(url, `Basic ${Buffer.from("ops:wrong").toString("base64")}`)("GET", "/servers")).status).toBe(401);
      expect((await admin(url, `Basic ${Buffer.from("ops:correct horse battery").toString("base64")}`)("GET", "/servers")).status).toBe(200);
    });

    it("serves its OpenAPI document", async () => {
      const doc = await call("GET", "/openapi.json");
      expect(doc.status).toBe(200);
      expect(doc.json.openapi).toBe("3.1.0");
      expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(["/admin/servers", "/admin/servers/{name}", "/admin/tools/{name}", "/admin/export", "/admin/import", "/admin/metrics"]));
    });

    it("creates a virtual server whose endpoint shows exactly its entries, and keeps it across a restart", async () => {
      const created = await call("POST", "/servers", { name: "research", tools: ["one__echo", { name: "one__add", rename: "plus", fixed: { b: 1 } }] });
      expect(created.status).toBe(201);
      expect(created.json.exposes.tools.sort()).toEqual(["one__echo", "plus"]);
      expect(await toolNames(`${url}/servers/research/mcp`)).toEqual(["one__echo", "plus"]);

      const client = await connectV2(`${url}/servers/research/mcp`);
      expect(firstText(await client.callTool({ name: "plus", arguments: { a: 41 } }))).toBe("42");
      await client.close();

      await gw.close();
      ({ gw, url } = await start(db.url));
      call = admin(url);
      expect(await toolNames(`${url}/servers/research/mcp`)).toEqual(["one__echo", "plus"]);
      expect((await call("GET", "/servers/research")).json).toMatchObject({ name: "research", source: "api", enabled: true });
    });

    it("answers 409 for a taken name, 422 naming the field for bad input, 404 for unknown names", async () => {
      const dup = await call("POST", "/servers", { name: "research", tools: [] });
      expect(dup.status).toBe(409);
      expect(dup.json).toMatchObject({ type: "urn:mcp-gateway:problem:conflict" });
      expect(dup.json.detail).toMatch(/research/);
      const declared = await call("DELETE", "/servers/declared");
      expect(declared.status).toBe(409);
      const bad = await call("POST", "/servers", { name: "x y", tools: "one__*" });
      expect(bad.status).toBe(422);
      expect(bad.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(["name", "tools"]);
      expect((await call("GET", "/servers/nope")).status).toBe(404);
      expect((await call("PATCH", "/tools/nope__tool", { enabled: false })).status).toBe(404);
      const malformed = await fetch(`${url}/admin/servers`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: "{" });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ type: "urn:mcp-gateway:problem:bad-request" });
    });

    it("disables an entry everywhere and enables it again; the change persists", async () => {
      const off = await call("POST", "/tools/one__echo/disable");
      expect(off.json).toMatchObject({ name: "one__echo", enabled: false });
      expect(await toolNames(`${url}/mcp`)).not.toContain("one__echo");
      expect(await toolNames(`${url}/servers/research/mcp`)).toEqual(["plus"]);
      const tagged = await call("PATCH", "/tools/one__echo", { enabled: true, tags: ["demo"], description: "Echo (curated)" });
      expect(tagged.json).toMatchObject({ enabled: true, tags: ["demo"], description: "Echo (curated)" });
      expect((await call("GET", "/catalog?tag=demo")).json.entries.map((e: { name: string }) => e.name)).toEqual(["one__echo"]);
      expect((await call("GET", "/tools?upstream=one&q=curated")).json.tools.map((e: { name: string }) => e.name)).toEqual(["one__echo"]);
      expect(await toolNames(`${url}/mcp`)).toContain("one__echo");
    });

    it("keeps per-entry metrics, and resets them", async () => {
      const client = await connectV1(`${url}/mcp`);
      for (let i = 0; i < 3; i++) await client.callTool({ name: "one__echo", arguments: { text: "m" } });
      await client.callTool({ name: "one__fail", arguments: {} });
      await client.close();
      const echo = (await call("GET", "/tools/one__echo")).json.metrics;
      expect(echo.calls).toBeGreaterThanOrEqual(3);
      expect(echo.errors).toBe(0);
      expect(echo.min).toBeGreaterThan(0);
      expect(echo.max).toBeGreaterThanOrEqual(echo.p95);
      expect(echo.lastUsed).toMatch(/^\d{4}-/);
      expect((await call("GET", "/tools/one__fail")).json.metrics).toMatchObject({ calls: 1, errors: 1 });
      expect((await call("DELETE", "/metrics")).status).toBe(204);
      expect((await call("GET", "/tools/one__echo")).json.metrics.calls).toBe(0);
    });

    it("adds an upstream at run time behind the SSRF guard, and never shows its secrets", async () => {
      const blocked = await call("POST", "/upstreams", { name: "meta", config: { type: "streamable-http", url: "http://169.254.169.254/mcp" } });
      expect(blocked.status).toBe(422);
      expect(blocked.json.errors[0].field).toBe("config.url");
      const stdio = await call("POST", "/upstreams", { name: "shell", config: { type: "stdio", command: "sh" } });
      expect(stdio.status).toBe(422);
      const env = await call("POST", "/upstreams", { name: "leak", config: { type: "streamable-http", url: one.url, headers: { "x-k": "${env.HOME}" } } });
      expect(env.status).toBe(422);

      const added = await call("POST", "/upstreams", { name: "two", config: { type: "streamable-http", url: one.url, headers: { Authorization: `Bearer ${CANARY}` } } });
      expect(added.status).toBe(201);
      expect(added.json).toMatchObject({ name: "two", source: "api", status: { state: "connected" } });
      expect(added.text).not.toContain(CANARY);
      expect(await toolNames(`${url}/mcp`)).toContain("two__echo");
      const exported = await call("GET", "/export");
      expect(exported.status).toBe(200);
      expect(exported.text).not.toContain(CANARY);
      expect(exported.json.upstreams[0].config.headers.Authorization).toBe("****");
      expect((await call("GET", "/upstreams")).text).not.toContain(CANARY);

      // At rest the credential is AES-GCM sealed: the raw row holds no trace of it.
      const raw = await openDatabase(db.url, { cwd: process.cwd() });
      try {
        const stored = (await exportCatalog(raw)).upstreams.find((u) => u.name === "two")!;
        expect(JSON.stringify(stored)).not.toContain(CANARY);
        expect((stored.config.headers as Record<string, string>).Authorization).toMatch(/^gsb1:test:/);
      } finally {
        await raw.close();
      }
    });

    it("turns a REST API into tools at run time (SSRF-checked, OpenAPI specs only by URL)", async () => {
      const hello = { method: "GET", path: "/hello/{who}", input: { type: "object", properties: { who: { type: "string" } }, required: ["who"] } };
      const file = await call("POST", "/upstreams", { name: "files", config: { type: "rest", openapi: { spec: "/etc/passwd" } } });
      expect(file.status).toBe(422);
      expect(file.json.errors[0].field).toBe("config.openapi.spec");
      const internal = await call("POST", "/upstreams", { name: "meta2", config: { type: "rest", baseUrl: "http://10.1.2.3/", tools: { hello } } });
      expect(internal.status).toBe(422);
      expect(internal.json.errors[0].field).toBe("config.baseUrl");
      const created = await call("POST", "/upstreams", { name: "greeter", config: { type: "rest", baseUrl: apiUrl, tools: { hello } } });
      expect(created.status).toBe(201);
      const client = await connectV2(`${url}/mcp`);
      try {
        const result = await client.callTool({ name: "greeter__hello", arguments: { who: "Ada" } });
        expect(result.structuredContent).toEqual({ greeting: "hello Ada" });
      } finally {
        await client.close();
      }
      expect((await call("DELETE", "/upstreams/greeter")).status).toBe(204);
      expect(await toolNames(`${url}/mcp`)).not.toContain("greeter__hello");
    });

    it("creates prompts and text resources at run time, but no file access and no unsafe templates", async () => {
      const kb = {
        type: "local",
        prompts: { faq: { arguments: [{ name: "q", required: true }], template: "Q: {{ q }}" } },
        resources: { policy: { uri: "kb://policy", text: "Be kind.", mimeType: "text/plain" } },
      };
      const fileRead = await call("POST", "/upstreams", { name: "kb", config: { ...kb, resources: { secrets: { file: "/etc/passwd" } } } });
      expect(fileRead.status).toBe(422);
      expect(fileRead.json.errors[0].field).toBe("config.resources.secrets.file");
      const unsafe = await call("POST", "/upstreams", { name: "kb", config: { ...kb, prompts: { x: { template: "{{ constructor }}" } } } });
      expect(unsafe.status).toBe(422);
      expect(unsafe.json.errors[0].field).toMatch(/^config\.prompts\.x/);
      const created = await call("POST", "/upstreams", { name: "kb", config: kb });
      expect(created.status).toBe(201);
      const client = await connectV1(`${url}/mcp`);
      try {
        const prompt = await client.getPrompt({ name: "kb__faq", arguments: { q: "why?" } });
        expect((prompt.messages[0]!.content as { text: string }).text).toBe("Q: why?");
        expect((await client.readResource({ uri: "kb://policy" })).contents[0]).toMatchObject({ text: "Be kind." });
      } finally {
        await client.close();
      }
      expect((await call("DELETE", "/upstreams/kb")).status).toBe(204);
    });

    it("imports all or nothing: a failing import changes nothing", async () => {
      const before = (await call("GET", "/export")).json;
      const masked = await call("POST", "/import?mode=merge", before);
      expect(masked.status).toBe(422);
      expect(masked.json.errors[0].field).toMatch(/^upstreams\.0\.config\.headers/);
      const clash = await call("POST", "/import?mode=merge", {
        format: "mcp-gateway-catalog",
        version: 1,
        servers: [{ name: "fresh", spec: { tools: ["one__echo"] }, enabled: true }, { name: "research", spec: {}, enabled: true }],
      });
      expect(clash.status).toBe(409);
      const after = (await call("GET", "/export")).json;
      expect({ ...after, exportedAt: "" }).toEqual({ ...before, exportedAt: "" });
      expect((await call("GET", "/servers/fresh")).status).toBe(404);

      const ok = await call("POST", "/import?mode=merge", { format: "mcp-gateway-catalog", version: 1, servers: [{ name: "fresh", spec: { tools: ["one__whoami"] }, enabled: true }] });
      expect(ok.status).toBe(200);
      expect(await toolNames(`${url}/servers/fresh/mcp`)).toEqual(["one__whoami"]);
    });

    it("versions a config prompt's template, rolls back, and keeps the newest across a restart", async () => {
      const render = async () => {
        const client = await connectV1(`${url}/mcp`);
        try {
          const got = await client.getPrompt({ name: "welcome", arguments: { who: "Ada" } });
          return (got.messages[0]!.content as { text: string }).text;
        } finally {
          await client.close();
        }
      };
      expect(await render()).toBe("Hello Ada");
      const v1 = await call("POST", "/prompts/welcome/versions", { template: "Good morning, {{ who }}!" });
      expect(v1.status).toBe(201);
      expect(v1.json).toMatchObject({ current: 1, versions: [{ version: 0, source: "config" }, { version: 1, source: "api" }] });
      expect(await render()).toBe("Good morning, Ada!");
      const refused = await call("POST", "/prompts/welcome/versions", { template: "Hi {{ stranger }} {% if %}" });
      expect(refused.status).toBe(422);
      expect(refused.json.errors[0].field).toBe("template");
      expect(await render()).toBe("Good morning, Ada!");

      const back = await call("POST", "/prompts/welcome/rollback", { version: 0 });
      expect(back.json.current).toBe(2);
      expect(await render()).toBe("Hello Ada");
      await call("POST", "/prompts/welcome/rollback", { version: 1 });
      await gw.close();
      ({ gw, url } = await start(db.url));
      call = admin(url);
      expect(await render()).toBe("Good morning, Ada!");
      expect((await call("GET", "/prompts/welcome/versions")).json.versions.map((v: { version: number }) => v.version)).toEqual([0, 1, 2, 3]);
      expect((await call("POST", "/prompts/welcome/rollback", { version: 9 })).status).toBe(404);
      expect((await call("GET", "/prompts/one__greet/versions")).status).toBe(404);
    });

    it("lets a second gateway on the same database pick up admin writes (scale-out)", async () => {
      const peer = await createGateway({ ...config(db.url), admin: undefined, storage: { db: db.url, syncInterval: 100 } });
      try {
        const peerUrl = (await peer.listen({ port: 0 })).url;
        expect(await toolNames(`${peerUrl}/servers/research/mcp`)).toEqual(["one__echo", "plus"]);
        expect((await call("PUT", "/servers/research", { tools: ["one__whoami"] })).status).toBe(200);
        await waitFor(async () => (await toolNames(`${peerUrl}/servers/research/mcp`).catch(() => [])).join() === "one__whoami", 5000, "peer sees the change");
        const peerAdmin = await peer.fetch(new Request("http://127.0.0.1/admin/servers", { headers: { authorization: `Bearer ${TOKEN}` } }));
        expect(peerAdmin.status).toBe(404);
      } finally {
        await peer.close();
      }
    });

    it("deletes a run-time server: its endpoint answers 404", async () => {
      expect((await call("DELETE", "/servers/fresh")).status).toBe(204);
      const gone = await fetch(`${url}/servers/fresh/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(gone.status).toBe(404);
    });
  });
}

adminSuite("SQLite file", async () => sqliteDatabase());

const pgProbe = await postgresDatabase().catch(() => undefined);
if (pgProbe) {
  await pgProbe.drop();
  adminSuite("PostgreSQL", postgresDatabase);
} else {
  console.warn(`\n!!! PostgreSQL is unreachable: admin API tests on Postgres ${process.env.CI === "true" ? "FAIL under CI" : "SKIPPED"} !!!\n`);
  describe.skipIf(process.env.CI !== "true")("admin API (PostgreSQL)", () => {
    it("needs a reachable PostgreSQL", () => {
      expect.fail("PostgreSQL at 127.0.0.1:5432 is unreachable");
    });
  });
}

describe("admin API without a secret key", () => {
  it("refuses to store an upstream credential in clear, naming the field", async () => {
    const db = sqliteDatabase();
    const gw = await createGateway(config(db.url), { secretBox: undefined });
    try {
      const { url } = await gw.listen({ port: 0 });
      const refused = await admin(url)("POST", "/upstreams", { name: "two", config: { type: "streamable-http", url: one.url, headers: { Authorization: `Bearer ${CANARY}` } } });
      expect(refused.status).toBe(422);
      expect(refused.json.errors[0]).toMatchObject({ field: "config.headers.Authorization" });
      expect(refused.text).not.toContain(CANARY);
      expect((await admin(url)("POST", "/upstreams", { name: "plain", config: { type: "streamable-http", url: one.url } })).status).toBe(201);
    } finally {
      await gw.close();
      await db.drop();
    }
  });
});

describe("API keys through the admin API", () => {
  it("creates a key shown once, accepts it on /mcp, lists it without secrets, and refuses it once revoked", async () => {
    const db = sqliteDatabase();
    const gw = await createGateway({ ...config(db.url), auth: { apiKeys: true } }, { secretBox: BOX });
    try {
      const { url } = await gw.listen({ port: 0 });
      const initialize = (key?: string) =>
        fetch(`${url}/mcp`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "k", version: "1" } } }),
        });
      expect((await initialize()).status).toBe(401);
      const created = await admin(url)("POST", "/api-keys", { name: "ci bot", scopes: ["tools"] });
      expect(created.status).toBe(201);
      const key = created.json.key as string;
      expect(key).toMatch(/^gk_[0-9a-f]{16}_/);
      const listed = await admin(url)("GET", "/api-keys");
      expect(listed.json.apiKeys).toHaveLength(1);
      // The secret part may itself contain "_": it is everything after `gk_<hex id>_`.
      const secret = key.slice(key.indexOf("_", 3) + 1);
      expect(secret).toHaveLength(43);
      expect(listed.text).not.toContain(secret);
      const ok = await initialize(key);
      expect(ok.status).toBe(200);
      await ok.body?.cancel();
      expect((await admin(url)("DELETE", `/api-keys/${created.json.id}`)).status).toBe(204);
      expect((await initialize(key)).status).toBe(401);
      expect((await admin(url)("DELETE", `/api-keys/${created.json.id}`)).status).toBe(404);
    } finally {
      await gw.close();
      await db.drop();
    }
  });
});

describe("admin API disabled", () => {
  it("is not served at all without a token or users (never open)", async () => {
    const gw = await createGateway({ log: { level: "silent" } });
    try {
      const response = await gw.fetch(new Request("http://127.0.0.1/admin/servers", { headers: { authorization: `Bearer ${TOKEN}` } }));
      expect(response.status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});
