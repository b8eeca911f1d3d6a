import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createDatabase, type Database } from "db0";
import sqliteConnector from "db0/connectors/better-sqlite3";
import postgresqlConnector from "db0/connectors/postgresql";
import { GatewayError } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import type { Dialect } from "./dialect.ts";
import { applyMigrations } from "./migrations.ts";

/** An open, migrated gateway database. */
export interface GatewayDatabase {
  dialect: Dialect;
  /** The db0 instance. Prefer `transaction` for writes: raw calls bypass its queue. */
  db: Database;
  /** Migration versions applied by this open (empty when the schema was already current). */
  migrated: number[];
  /**
   * Runs `fn` in a transaction, committed on success and rolled back on throw.
   * Calls are queued: both connectors hold a single connection, so interleaved statements
   * from two async callers would otherwise land in each other's transaction.
   */
  transaction<T>(fn: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Base directory for the default SQLite file and relative `file:` URLs. */
  cwd: string;
}

/**
 * Opens the gateway database and applies pending migrations.
 * `undefined` → SQLite at `<cwd>/.gateway/gateway.sqlite`; `sqlite::memory:`, `file:…`, `sqlite:…`
 * → SQLite; `postgres://` / `postgresql://` → Postgres (via `pg`).
 */
export async function openDatabase(url: string | undefined, opts: OpenDatabaseOptions): Promise<GatewayDatabase> {
  const { dialect, db } = connect(url, opts.cwd);
  try {
    if (dialect === "sqlite" && !isMemory(url)) await db.exec("PRAGMA journal_mode = WAL;");
    const migrated = await applyMigrations(db, dialect);
    return createHandle(dialect, db, migrated);
  } catch (error) {
    await db.dispose().catch(() => {});
    const safe = maskDatabaseUrl(url ?? "default SQLite database");
    const reason = redactPassword(describeError(error), url);
    throw new GatewayError("INTERNAL", `Cannot open database ${safe}: ${reason}`, { cause: error });
  }
}

/** `postgres://user:secret@host/db` → `postgres://user:****@host/db`; other strings unchanged. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][\w+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, "$1:****@");
}

function connect(url: string | undefined, cwd: string): { dialect: Dialect; db: Database } {
  if (url === undefined) return { dialect: "sqlite", db: sqliteFile(resolve(cwd, ".gateway/gateway.sqlite")) };
  if (isMemory(url)) return { dialect: "sqlite", db: createDatabase(sqliteConnector({ name: ":memory:" })) };
  if (url.startsWith("file://")) return { dialect: "sqlite", db: sqliteFile(fileURLToPath(url)) };
  const path = /^(?:file|sqlite):(.+)$/.exec(url)?.[1];
  if (path) return { dialect: "sqlite", db: sqliteFile(resolve(cwd, path)) };
  if (/^postgres(?:ql)?:\/\//.test(url)) {
    return { dialect: "postgresql", db: createDatabase(postgresqlConnector({ connectionString: url })) };
  }
  throw new GatewayError(
    "CONFIG_INVALID",
    `Unsupported database URL ${maskDatabaseUrl(url)}: use sqlite::memory:, file:<path> or postgres://`,
  );
}

function isMemory(url: string | undefined): boolean {
  return url === "sqlite::memory:" || url === ":memory:";
}

function sqliteFile(path: string): Database {
  mkdirSync(dirname(path), { recursive: true });
  // `{ path }` is resolved as given; `{ name }` would land in `<cwd>/.data/<name>.sqlite3`.
  return createDatabase(sqliteConnector({ path }));
}

function redactPassword(text: string, url: string | undefined): string {
  if (!url) return text;
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return maskDatabaseUrl(text);
  }
  const masked = maskDatabaseUrl(text);
  return password ? masked.replaceAll(password, "****") : masked;
}

function createHandle(dialect: Dialect, db: Database, migrated: number[]): GatewayDatabase {
  let queue: Promise<unknown> = Promise.resolve();
  const begin = dialect === "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN";
  return {
    dialect,
    db,
    migrated,
    transaction<T>(fn: (db: Database) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        await db.exec(begin);
        try {
          const result = await fn(db);
          await db.exec("COMMIT");
          return result;
        } catch (error) {
          await db.exec("ROLLBACK").catch(() => {});
          throw error;
        }
      };
      const result = queue.then(run, run);
      queue = result.catch(() => {});
      return result;
    },
    async close() {
      await queue;
      await db.dispose();
    },
  };
}
