import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const ADMIN_URL = process.env.GATEWAY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A throwaway registry database: a SQLite file in a temp dir, or a fresh PostgreSQL database. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), "gw-admin-"));
  return { url: `sqlite:${join(dir, "gateway.sqlite")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Resolves to undefined when PostgreSQL is unreachable (the caller decides: fail under CI, loud skip locally). */
export async function postgresDatabase(): Promise<TestDatabase | undefined> {
  const reachable = await withPg(async () => true).catch(() => false);
  if (!reachable) return undefined;
  const name = `gw_admin_${process.pid}_${randomBytes(3).toString("hex")}`;
  await withPg((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withPg((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}
