import type { Database } from "db0";
import { GatewayError } from "../errors.ts";
import type { GatewayDatabase } from "./database.ts";
import { type Dialect, fromSqlJson, fromSqlTimestamp, isUniqueViolation, toSqlBool, toSqlJson } from "./dialect.ts";

/** An upstream added at run time (row of `upstreams`). */
export interface UpstreamRecord {
  name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Typed access to the `upstreams` table. Every write is one transaction. */
export interface UpstreamRepository {
  /** A taken name → `GatewayError` CONFLICT (409) naming it. */
  create(name: string, config: Record<string, unknown>, enabled?: boolean): Promise<UpstreamRecord>;
  get(name: string): Promise<UpstreamRecord | undefined>;
  /** Every upstream, ordered by name. */
  list(): Promise<UpstreamRecord[]>;
  /** Replaces the config; an unknown name → NOT_FOUND (404). */
  update(name: string, config: Record<string, unknown>): Promise<UpstreamRecord>;
  /** An unknown name → NOT_FOUND (404). */
  setEnabled(name: string, enabled: boolean): Promise<UpstreamRecord>;
  /** Returns false when no upstream had that name. */
  delete(name: string): Promise<boolean>;
}

type Row = Record<string, unknown>;

/** Maps an `upstreams` row to a record. */
export function upstreamFromRow(dialect: Dialect, row: Row): UpstreamRecord {
  return {
    name: String(row.name),
    config: fromSqlJson(dialect, row.config),
    enabled: Boolean(row.enabled),
    createdAt: fromSqlTimestamp(row.created_at) ?? "",
    updatedAt: fromSqlTimestamp(row.updated_at) ?? "",
  };
}

/** The error for a taken upstream name. */
export function upstreamConflict(name: string): GatewayError {
  return new GatewayError("CONFLICT", `An upstream named "${name}" already exists`, { status: 409, data: { name } });
}

/** Creates the run-time upstream repository over an open gateway database. */
export function createUpstreamRepository(gdb: GatewayDatabase): UpstreamRepository {
  const { dialect } = gdb;
  const find = async (db: Database, name: string): Promise<UpstreamRecord | undefined> => {
    const { rows = [] } = await db.sql`SELECT * FROM upstreams WHERE name = ${name}`;
    return rows[0] ? upstreamFromRow(dialect, rows[0]) : undefined;
  };
  const updated = (rows: Row[] | undefined, name: string): UpstreamRecord => {
    if (!rows?.[0]) throw new GatewayError("NOT_FOUND", `Upstream "${name}" not found`, { status: 404, data: { name } });
    return upstreamFromRow(dialect, rows[0]);
  };

  return {
    create: (name, config, enabled = true) =>
      gdb
        .transaction(async (db) => {
          if (await find(db, name)) throw upstreamConflict(name);
          const { rows = [] } = await db.sql`INSERT INTO upstreams (name, config, enabled)
            VALUES (${name}, ${toSqlJson(config)}, ${toSqlBool(dialect, enabled)}) RETURNING *`;
          return upstreamFromRow(dialect, rows[0]!);
        })
        .catch((error: unknown) => {
          // Another process can win the race between our check and the insert.
          throw isUniqueViolation(error) ? upstreamConflict(name) : error;
        }),
    get: (name) => gdb.transaction((db) => find(db, name)),
    list: () =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM upstreams ORDER BY name`;
        return rows.map((row) => upstreamFromRow(dialect, row));
      }),
    update: (name, config) =>
      gdb.transaction(async (db) => {
        const { rows } = await db.sql`UPDATE upstreams SET config = ${toSqlJson(config)},
          updated_at = ${new Date().toISOString()} WHERE name = ${name} RETURNING *`;
        return updated(rows, name);
      }),
    setEnabled: (name, enabled) =>
      gdb.transaction(async (db) => {
        const { rows } = await db.sql`UPDATE upstreams SET enabled = ${toSqlBool(dialect, enabled)},
          updated_at = ${new Date().toISOString()} WHERE name = ${name} RETURNING *`;
        return updated(rows, name);
      }),
    delete: (name) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`DELETE FROM upstreams WHERE name = ${name} RETURNING id`;
        return rows.length > 0;
      }),
  };
}
