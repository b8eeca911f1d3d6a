import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createDatabase, type Database } from "db0";
import sqliteConnector from "db0/connectors/better-sqlite3";
import postgresqlConnector from "db0/connectors/postgresql";
import pg from "pg";
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
    const lib = { ...pg, Client: ResilientPgClient } as unknown as typeof import("pg");
    return { dialect: "postgresql", db: createDatabase(postgresqlConnector({ connectionString: url, lib })) };
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

/**
 * The one `pg` connection db0 holds, made survivable: a connection error while idle (server restart,
 * `pg_terminate_backend`) no longer crashes the process as an unhandled `error` event. The next query
 * then fails once with a clear error and the one after reconnects; failing once keeps a transaction whose
 * connection died from continuing, autocommitted, on a new connection.
 */
class ResilientPgClient {
  readonly #config: pg.ClientConfig;
  #client: Promise<pg.Client> | undefined;
  #active: pg.Client | undefined;
  #lost: Error | undefined;
  #inFlight = 0;

  constructor(config: pg.ClientConfig) {
    this.#config = config;
  }

  async connect(): Promise<void> {
    await this.#current();
  }

  async query(sql: string, params?: unknown[]): Promise<pg.QueryResult> {
    const lost = this.#lost;
    this.#lost = undefined;
    if (lost) throw lost;
    const client = await this.#current();
    this.#inFlight++;
    try {
      return await client.query(sql, params);
    } catch (error) {
      // The caller sees this failure, so the next query may reconnect straight away.
      if (isConnectionLoss(error)) this.#drop(client);
      throw error;
    } finally {
      this.#inFlight--;
    }
  }

  async end(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#active = undefined;
    await (await client?.catch(() => undefined))?.end();
  }

  #current(): Promise<pg.Client> {
    this.#client ??= this.#open();
    return this.#client;
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    // An in-flight query already rejects with the driver's error; only an idle loss needs reporting.
    client.on("error", (error) => this.#drop(client, this.#inFlight === 0 ? error.message : undefined));
    client.on("end", () => this.#drop(client, this.#inFlight === 0 ? "connection closed" : undefined));
    try {
      await client.connect();
    } catch (error) {
      this.#client = undefined;
      throw error;
    }
    this.#active = client;
    return client;
  }

  #drop(client: pg.Client, unreported?: string): void {
    if (this.#active !== client) return;
    this.#active = undefined;
    this.#client = undefined;
    if (unreported === undefined) return;
    this.#lost = new GatewayError("INTERNAL", `Lost the PostgreSQL connection (${unreported}); the next query reconnects`, {
      status: 503,
    });
  }
}

/** Server shutdown/termination (SQLSTATE class 57P) or a closed socket: this client is unusable. */
function isConnectionLoss(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === "string" && code.startsWith("57P")) || /^Connection terminated/.test(String(message));
}
