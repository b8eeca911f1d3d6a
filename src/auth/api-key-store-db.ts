import type { GatewayDatabase } from "../storage/database.ts";
import { fromSqlJson, fromSqlTimestamp, toSqlJson } from "../storage/dialect.ts";
import { generateApiKey, parseApiKey, secretMatches, type ApiKeyRecord, type ApiKeyStore } from "./api-keys.ts";

type Row = Record<string, unknown>;

/** An {@link ApiKeyStore} over the gateway database (`api_keys` table, migration 2): SQLite or Postgres. */
export function dbApiKeyStore(gdb: GatewayDatabase): ApiKeyStore {
  const { dialect } = gdb;
  const toRecord = (row: Row): ApiKeyRecord => {
    const revokedAt = fromSqlTimestamp(row.revoked_at);
    const lastUsedAt = fromSqlTimestamp(row.last_used_at);
    return {
      id: String(row.id),
      name: String(row.name),
      prefix: String(row.prefix),
      subject: String(row.subject),
      scopes: fromSqlJson<string[]>(dialect, row.scopes),
      createdAt: fromSqlTimestamp(row.created_at)!,
      ...(revokedAt ? { revokedAt } : {}),
      ...(lastUsedAt ? { lastUsedAt } : {}),
    };
  };
  const select = async (id: string): Promise<Row | undefined> => {
    const { rows = [] } = await gdb.db.sql`SELECT * FROM api_keys WHERE id = ${id}`;
    return rows[0] as Row | undefined;
  };
  const now = () => new Date().toISOString();

  return {
    async create(input) {
      const { id, key, hash } = generateApiKey();
      const subject = input.subject ?? `apikey:${id}`;
      const scopes = toSqlJson(input.scopes ?? []);
      const created = now();
      await gdb.transaction(async (db) => {
        await db.sql`INSERT INTO api_keys (id, name, prefix, hash, scopes, subject, created_at) VALUES (${id}, ${input.name}, ${`gk_${id}`}, ${hash}, ${scopes}, ${subject}, ${created})`;
      });
      return { key, record: toRecord((await select(id))!) };
    },
    async list() {
      const { rows = [] } = await gdb.db.sql`SELECT * FROM api_keys ORDER BY created_at, id`;
      return (rows as Row[]).map(toRecord);
    },
    async get(id) {
      const row = await select(id);
      return row && toRecord(row);
    },
    async revoke(id) {
      return gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT id FROM api_keys WHERE id = ${id} AND revoked_at IS NULL`;
        if (rows.length === 0) return false;
        await db.sql`UPDATE api_keys SET revoked_at = ${now()} WHERE id = ${id}`;
        return true;
      });
    },
    async verify(key) {
      const parsed = parseApiKey(key);
      if (!parsed) return undefined;
      const row = await select(parsed.id);
      if (!row || row.revoked_at !== null && row.revoked_at !== undefined || !secretMatches(parsed.secret, String(row.hash))) return undefined;
      const used = now();
      await gdb.transaction((db) => db.sql`UPDATE api_keys SET last_used_at = ${used} WHERE id = ${parsed.id}`).catch(() => {});
      return { ...toRecord(row), lastUsedAt: used };
    },
  };
}
