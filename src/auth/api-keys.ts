import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readBearerToken } from "./bearer.ts";
import type { AuthProvider, AuthResult } from "./types.ts";

/** An API key as stored and listed: never the key itself. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** `gk_<id>`: enough to recognise a key in a list, useless to authenticate. */
  prefix: string;
  /** Identity subject of requests made with the key. */
  subject: string;
  scopes: string[];
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

/** What `create` takes. `subject` defaults to `apikey:<id>`. */
export interface ApiKeyInput {
  name: string;
  subject?: string;
  scopes?: string[];
}

/** A new key: `key` is shown once and never stored. */
export interface CreatedApiKey {
  key: string;
  record: ApiKeyRecord;
}

/** Storage of API keys (memory, or SQL via `dbApiKeyStore`). Only SHA-256 hashes of the secrets are kept. */
export interface ApiKeyStore {
  create(input: ApiKeyInput): Promise<CreatedApiKey>;
  list(): Promise<ApiKeyRecord[]>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Returns false when no active key had that id. */
  revoke(id: string): Promise<boolean>;
  /** The record of an active key matching `key`, or undefined; records the use. */
  verify(key: string): Promise<ApiKeyRecord | undefined>;
}

const KEY_RE = /^gk_([0-9a-f]{16})_([\w-]{43})$/;

/** A fresh key: `gk_<16 hex id>_<43 base64url chars = 256 random bits>`. */
export function generateApiKey(): { id: string; key: string; hash: string } {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id, key: `gk_${id}_${secret}`, hash: hashSecret(secret) };
}

/** Splits a presented key; undefined when it is not shaped like one. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_RE.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** SHA-256 (hex) of a key's secret: the secret is 256 random bits, so no slow hash is needed. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

/** An in-memory {@link ApiKeyStore} (tests, single-process setups without a database). */
export function memoryApiKeyStore(): ApiKeyStore {
  const keys = new Map<string, { record: ApiKeyRecord; hash: string }>();
  const copy = (record: ApiKeyRecord): ApiKeyRecord => ({ ...record, scopes: [...record.scopes] });
  return {
    async create(input) {
      const { id, key, hash } = generateApiKey();
      const record: ApiKeyRecord = { id, name: input.name, prefix: `gk_${id}`, subject: input.subject ?? `apikey:${id}`, scopes: [...(input.scopes ?? [])], createdAt: new Date().toISOString() };
      keys.set(id, { record, hash });
      return { key, record: copy(record) };
    },
    async list() {
      return [...keys.values()].map((entry) => copy(entry.record));
    },
    async get(id) {
      const entry = keys.get(id);
      return entry && copy(entry.record);
    },
    async revoke(id) {
      const entry = keys.get(id);
      if (!entry || entry.record.revokedAt) return false;
      entry.record.revokedAt = new Date().toISOString();
      return true;
    },
    async verify(key) {
      const parsed = parseApiKey(key);
      const entry = parsed && keys.get(parsed.id);
      if (!parsed || !entry || entry.record.revokedAt || !secretMatches(parsed.secret, entry.hash)) return undefined;
      entry.record.lastUsedAt = new Date().toISOString();
      return copy(entry.record);
    },
  };
}

/** Options of {@link apiKeyProvider}. */
export interface ApiKeyProviderOptions {
  store: ApiKeyStore;
  /** Default `"apikey"`. */
  name?: string;
}

/**
 * Authenticates `Authorization: Bearer gk_...` or `X-API-Key: gk_...`. A bearer token that is not shaped like
 * an API key counts as `missing`, so a JWT provider later in the list still gets it.
 */
export function apiKeyProvider(options: ApiKeyProviderOptions): AuthProvider {
  const name = options.name ?? "apikey";
  return {
    name,
    async authenticate(request: Request): Promise<AuthResult> {
      const header = request.headers.get("x-api-key")?.trim();
      const bearer = readBearerToken(request);
      const key = header || (bearer?.startsWith("gk_") ? bearer : undefined);
      if (!key) return { ok: false, reason: "missing", message: "missing API key" };
      const record = await options.store.verify(key).catch(() => undefined);
      if (!record) return { ok: false, reason: "invalid", message: "API key is invalid or revoked" };
      return {
        ok: true,
        identity: { subject: record.subject, scopes: record.scopes, claims: Object.freeze({ sub: record.subject, key_id: record.id, key_name: record.name }), provider: name },
      };
    },
  };
}
