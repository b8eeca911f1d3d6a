import type { Database } from "db0";
import { type Dialect, renderSql } from "./dialect.ts";

/** One schema step. `sql` is written once, with `{fragments}` for the dialect-specific bits. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Histogram bucket upper bounds (ms) used for p95; the last bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000] as const;

/** Postgres advisory-lock key that serialises migrations across connections ("gwmigr"). */
const PG_MIGRATION_LOCK = 0x67776d696772;

/** The gateway schema, oldest first. Never edit a released migration: append a new one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "catalog",
    sql: `
CREATE TABLE upstreams (
  id {id},
  name TEXT NOT NULL UNIQUE,
  config {json} NOT NULL,
  enabled {bool} NOT NULL DEFAULT {true},
  created_at {timestamp} NOT NULL DEFAULT {now},
  updated_at {timestamp} NOT NULL DEFAULT {now}
);
CREATE TABLE entries (
  id {id},
  kind TEXT NOT NULL CHECK (kind IN ('tool', 'prompt', 'resource')),
  name TEXT NOT NULL,
  upstream TEXT,
  definition {json} NOT NULL,
  enabled {bool} NOT NULL DEFAULT {true},
  tags {json} NOT NULL DEFAULT '[]',
  created_at {timestamp} NOT NULL DEFAULT {now},
  updated_at {timestamp} NOT NULL DEFAULT {now},
  UNIQUE (kind, name)
);
CREATE TABLE servers (
  id {id},
  name TEXT NOT NULL UNIQUE,
  spec {json} NOT NULL,
  enabled {bool} NOT NULL DEFAULT {true},
  created_at {timestamp} NOT NULL DEFAULT {now},
  updated_at {timestamp} NOT NULL DEFAULT {now}
);
CREATE TABLE prompt_versions (
  id {id},
  prompt_name TEXT NOT NULL,
  version INTEGER NOT NULL,
  template TEXT NOT NULL,
  created_at {timestamp} NOT NULL DEFAULT {now},
  UNIQUE (prompt_name, version)
);
CREATE TABLE entry_metrics (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  calls BIGINT NOT NULL DEFAULT 0,
  errors BIGINT NOT NULL DEFAULT 0,
  latency_min_ms DOUBLE PRECISION,
  latency_max_ms DOUBLE PRECISION,
  latency_sum_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
  last_used_at {timestamp},
  PRIMARY KEY (kind, name)
);
-- Fixed latency histogram (bucket = index into LATENCY_BUCKETS_MS): O(1) rows per entry, p95 to bucket precision.
CREATE TABLE entry_latency_buckets (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  count BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, name, bucket)
);`,
  },
  {
    version: 2,
    name: "api_keys",
    // Only a hash of the key's secret is stored; `prefix` (gk_<id>) is what lists show.
    sql: `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  scopes {json} NOT NULL DEFAULT '[]',
  subject TEXT NOT NULL,
  created_at {timestamp} NOT NULL DEFAULT {now},
  revoked_at {timestamp},
  last_used_at {timestamp}
);`,
  },
];

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at {timestamp} NOT NULL DEFAULT {now}
);`;

/**
 * Applies pending migrations; returns the versions this call applied.
 * Each migration is one script (`BEGIN; lock; INSERT version; DDL; COMMIT`) sent in a single
 * call, so a second connection either waits (SQLite `BEGIN IMMEDIATE`, Postgres advisory lock)
 * or fails on the unique version and then sees it applied.
 */
export async function applyMigrations(
  db: Database,
  dialect: Dialect,
  list: readonly Migration[] = migrations,
): Promise<number[]> {
  const begin = dialect === "sqlite" ? "BEGIN IMMEDIATE;" : `BEGIN; SELECT pg_advisory_xact_lock(${PG_MIGRATION_LOCK});`;
  await runScript(db, `${begin}\n${renderSql(dialect, CREATE_TABLE)}\nCOMMIT;`);

  const applied: number[] = [];
  let done = await appliedVersions(db);
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    const record = `INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}');`;
    try {
      await runScript(db, `${begin}\n${record}\n${renderSql(dialect, migration.sql)}\nCOMMIT;`);
      applied.push(migration.version);
    } catch (error) {
      done = await appliedVersions(db);
      if (!done.has(migration.version)) {
        throw new Error(`Migration ${migration.version} (${migration.name}) failed`, { cause: error });
      }
    }
  }
  return applied;
}

/** Versions recorded in `schema_migrations`. */
export async function appliedVersions(db: Database): Promise<Set<number>> {
  const { rows = [] } = await db.sql`SELECT version FROM schema_migrations`;
  return new Set(rows.map((row) => Number(row.version)));
}

async function runScript(db: Database, script: string): Promise<void> {
  try {
    await db.exec(script);
  } catch (error) {
    await db.exec("ROLLBACK").catch(() => {});
    throw error;
  }
}
