import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTGRES_ADMIN_URL, withPostgresAdmin } from "../_postgres.ts";

/** A throwaway registry database: a SQLite file in a temp dir, or a fresh PostgreSQL database. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), "gw-admin-"));
  return { url: `sqlite:${join(dir, "gateway.sqlite")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Resolves to undefined when PostgreSQL is unreachable (the caller decides: fail under CI, loud skip locally). */
export async function postgresDatabase(): Promise<TestDatabase | undefined> {
  const reachable = await withPostgresAdmin(async () => true).catch(() => false);
  if (!reachable) return undefined;
  const name = `gw_admin_${process.pid}_${randomBytes(3).toString("hex")}`;
  await withPostgresAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withPostgresAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}) };
}
