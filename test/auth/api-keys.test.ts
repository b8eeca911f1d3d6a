import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { dbApiKeyStore } from "../../src/auth/api-key-store-db.ts";
import { apiKeyProvider, memoryApiKeyStore, parseApiKey, type ApiKeyStore } from "../../src/auth/api-keys.ts";
import { basicProvider, hashPassword, passwordMatches } from "../../src/auth/basic.ts";
import type { AuthProvider } from "../../src/auth/types.ts";
import { createGateway } from "../../src/index.ts";
import { openDatabase, type GatewayDatabase } from "../../src/storage/database.ts";
import { POSTGRES_ADMIN_URL, withPostgresAdmin } from "../_postgres.ts";

const databases: string[] = [];
const opened: GatewayDatabase[] = [];

const pgReachable = await withPostgresAdmin(async () => true).catch(() => false);

afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  if (pgReachable) await withPostgresAdmin(async (client) => {
    for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

const stores: [string, () => Promise<ApiKeyStore>][] = [
  ["memory", async () => memoryApiKeyStore()],
  ["sqlite", async () => {
    const db = await openDatabase("sqlite::memory:", { cwd: process.cwd() });
    opened.push(db);
    return dbApiKeyStore(db);
  }],
];
if (pgReachable || process.env.CI === "true") {
  stores.push(["postgresql", async () => {
    if (!pgReachable) throw new Error(`PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable`);
    const name = `gw_keys_${process.pid}_${randomBytes(3).toString("hex")}`;
    await withPostgresAdmin((client) => client.query(`CREATE DATABASE ${name}`));
    databases.push(name);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const db = await openDatabase(url.toString(), { cwd: process.cwd() });
    opened.push(db);
    return dbApiKeyStore(db);
  }]);
} else {
  console.warn(`\n!!! PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable: API key store tests run on memory and SQLite only !!!\n`);
}

describe.each(stores)("ApiKeyStore: %s", (_name, fresh) => {
  it("returns the plaintext key once, stores and lists only the prefix", async () => {
    const store = await fresh();
    const { key, record } = await store.create({ name: "ci", scopes: ["tools:read"], subject: "bot" });
    expect(key).toMatch(/^gk_[0-9a-f]{16}_[\w-]{43}$/);
    expect(record).toMatchObject({ name: "ci", prefix: `gk_${parseApiKey(key)!.id}`, subject: "bot", scopes: ["tools:read"] });
    expect(record.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const listed = await store.list();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(parseApiKey(key)!.secret);
    expect(listed[0]).not.toHaveProperty("hash");
  });

  it("verifies the exact key, records its use, and refuses altered, unknown and malformed keys", async () => {
    const store = await fresh();
    const { key, record } = await store.create({ name: "a" });
    const verified = await store.verify(key);
    expect(verified).toMatchObject({ id: record.id, subject: `apikey:${record.id}`, scopes: [] });
    expect(verified?.lastUsedAt).toBeDefined();
    expect((await store.get(record.id))?.lastUsedAt).toBeDefined();
    const last = key.at(-1) === "A" ? "B" : "A";
    expect(await store.verify(`${key.slice(0, -1)}${last}`)).toBeUndefined();
    expect(await store.verify(`gk_${"0".repeat(16)}_${key.slice(-43)}`)).toBeUndefined();
    for (const bad of ["", "gk_", key.slice(0, -1), `${key}x`, "gk_'; DROP TABLE api_keys; --_x", "x".repeat(10_000)]) {
      expect(await store.verify(bad)).toBeUndefined();
    }
  });

  it("revokes once: a revoked key no longer verifies and stays listed with revokedAt", async () => {
    const store = await fresh();
    const { key, record } = await store.create({ name: "gone" });
    const other = await store.create({ name: "kept" });
    expect(await store.revoke(record.id)).toBe(true);
    expect(await store.revoke(record.id)).toBe(false);
    expect(await store.revoke("nope")).toBe(false);
    expect(await store.verify(key)).toBeUndefined();
    expect(await store.verify(other.key)).toBeDefined();
    expect((await store.get(record.id))?.revokedAt).toBeDefined();
    expect((await store.list()).map((r) => r.name).sort()).toEqual(["gone", "kept"]);
  });
});

describe("apiKeyProvider and basicProvider on a real gateway", () => {
  it("accepts X-API-Key and Bearer gk_ keys, refuses revoked ones, and leaves other bearer tokens to later providers", async () => {
    const store = memoryApiKeyStore();
    const { key, record } = await store.create({ name: "client", subject: "svc", scopes: ["mcp"] });
    const provider = apiKeyProvider({ store });
    const gw = await createGateway({ log: { level: "silent" }, auth: { providers: [provider] } });
    try {
      const init = (headers: Record<string, string>) =>
        gw.fetch(new Request("http://127.0.0.1/mcp", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "k", version: "1" } } }),
        }));
      expect((await init({ "x-api-key": key })).status).toBe(200);
      expect((await init({ authorization: `Bearer ${key}` })).status).toBe(200);
      const wrong = await init({ "x-api-key": `${key.slice(0, -2)}zz` });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).not.toContain(key.slice(0, -2));
      await store.revoke(record.id);
      expect((await init({ "x-api-key": key })).status).toBe(401);
    } finally {
      await gw.close();
    }
    const jwtLike = await provider.authenticate(new Request("http://x/", { headers: { authorization: "Bearer eyJ.a.b" } }));
    expect(jwtLike).toMatchObject({ ok: false, reason: "missing" });
  });

  it("checks basic credentials against plain and scrypt-hashed passwords, same answer for unknown users", async () => {
    const hashed = hashPassword("s3cret-admin");
    expect(hashed).toMatch(/^scrypt:/);
    expect(passwordMatches("s3cret-admin", hashed)).toBe(true);
    expect(passwordMatches("s3cret-admi", hashed)).toBe(false);
    const provider = basicProvider({ users: { admin: hashed, ops: "plain-pass" } });
    const as = (user: string, pass: string) =>
      provider.authenticate(new Request("http://x/", { headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` } }));
    expect(await as("admin", "s3cret-admin")).toMatchObject({ ok: true, identity: { subject: "admin", provider: "basic" } });
    expect(await as("ops", "plain-pass")).toMatchObject({ ok: true, identity: { subject: "ops" } });
    expect(await as("ops", "plain-pas")).toEqual({ ok: false, reason: "invalid", message: "invalid user name or password" });
    expect(await as("nobody", "plain-pass")).toEqual({ ok: false, reason: "invalid", message: "invalid user name or password" });
    expect(await provider.authenticate(new Request("http://x/"))).toMatchObject({ ok: false, reason: "missing" });
    expect(await provider.authenticate(new Request("http://x/", { headers: { authorization: "Basic bm9jb2xvbg==" } }))).toMatchObject({ ok: false, reason: "invalid" });
  });

  it("a 401 offers the challenge of every configured scheme: Basic alone, or Bearer and Basic together", async () => {
    const statusOf = async (auth: { providers: AuthProvider[] }) => {
      const gw = await createGateway({ log: { level: "silent" }, auth });
      try {
        const response = await gw.fetch(new Request("http://127.0.0.1/mcp", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
        return { status: response.status, challenges: response.headers.get("www-authenticate") };
      } finally {
        await gw.close();
      }
    };
    const basic = basicProvider({ users: { ops: "pw" }, realm: "ops \"area\"" });
    expect(await statusOf({ providers: [basic] })).toEqual({ status: 401, challenges: 'Basic realm="ops area", charset="UTF-8"' });
    const keys = apiKeyProvider({ store: memoryApiKeyStore() });
    expect(await statusOf({ providers: [keys, basic] })).toEqual({ status: 401, challenges: 'Bearer, Basic realm="ops area", charset="UTF-8"' });
  });
});
