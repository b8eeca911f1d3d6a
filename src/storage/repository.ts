import type { Database } from "db0";
import { GatewayError } from "../errors.ts";
import type { GatewayDatabase } from "./database.ts";
import { fromSqlJson, fromSqlTimestamp, isUniqueViolation, renderSql, toSqlBool, toSqlJson } from "./dialect.ts";
import { LATENCY_BUCKETS_MS } from "./migrations.ts";

/** A persisted virtual server. */
export interface ServerRecord {
  id: number;
  name: string;
  spec: Record<string, unknown>;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ServerInput {
  name: string;
  spec: Record<string, unknown>;
  enabled?: boolean;
}

/** Typed access to the `servers` table. Every write is one transaction. */
export interface ServerRepository {
  create(input: ServerInput): Promise<ServerRecord>;
  /** Creates all or none: a clash on any name rolls back the whole batch. */
  createMany(inputs: ServerInput[]): Promise<ServerRecord[]>;
  get(name: string): Promise<ServerRecord | undefined>;
  list(): Promise<ServerRecord[]>;
  update(name: string, patch: Partial<ServerInput>): Promise<ServerRecord>;
  setEnabled(name: string, enabled: boolean): Promise<ServerRecord>;
  /** Returns false when no server had that name. */
  delete(name: string): Promise<boolean>;
}

/** Aggregated call metrics for one catalog entry. */
export interface EntryMetrics {
  calls: number;
  errors: number;
  min: number | undefined;
  avg: number | undefined;
  /** Upper bound of the histogram bucket holding the 95th percentile, capped at `max`. */
  p95: number | undefined;
  max: number | undefined;
  lastUsed: string | undefined;
}

export type EntryKind = "tool" | "prompt" | "resource";

/** Per-entry call metrics in `entry_metrics` + `entry_latency_buckets`. */
export interface MetricsRepository {
  record(kind: EntryKind, name: string, latencyMs: number, ok: boolean): Promise<void>;
  get(kind: EntryKind, name: string): Promise<EntryMetrics>;
  /** Clears one entry, or every entry when called without arguments. */
  reset(kind?: EntryKind, name?: string): Promise<void>;
  /** Adds pre-aggregated deltas in one transaction; equivalent to the matching `record` calls. */
  addBatch(deltas: MetricsDelta[]): Promise<void>;
  /** Metrics of every entry with at least one call, ordered by kind then name. */
  list(): Promise<(EntryMetrics & { kind: EntryKind; name: string })[]>;
}

/** Calls aggregated in memory for one entry, flushed with `MetricsRepository.addBatch`. */
export interface MetricsDelta {
  kind: EntryKind;
  name: string;
  calls: number;
  errors: number;
  minMs: number;
  maxMs: number;
  sumMs: number;
  lastUsed: string;
  /** bucket index (LATENCY_BUCKETS_MS) → count */
  buckets: Record<number, number>;
}

type Row = Record<string, unknown>;

/** Creates the `servers` repository over an open gateway database. */
export function createServerRepository(gdb: GatewayDatabase): ServerRepository {
  const { dialect } = gdb;
  const toRecord = (row: Row): ServerRecord => ({
    id: Number(row.id),
    name: String(row.name),
    spec: fromSqlJson(dialect, row.spec),
    enabled: Boolean(row.enabled),
    createdAt: fromSqlTimestamp(row.created_at) ?? "",
    updatedAt: fromSqlTimestamp(row.updated_at) ?? "",
  });
  const find = async (db: Database, name: string): Promise<ServerRecord | undefined> => {
    const { rows = [] } = await db.sql`SELECT * FROM servers WHERE name = ${name}`;
    return rows[0] ? toRecord(rows[0]) : undefined;
  };
  const findOrThrow = async (db: Database, name: string): Promise<ServerRecord> => {
    const found = await find(db, name);
    if (!found) throw new GatewayError("NOT_FOUND", `Virtual server "${name}" not found`, { status: 404 });
    return found;
  };
  const insert = async (db: Database, input: ServerInput): Promise<ServerRecord> => {
    if (await find(db, input.name)) throw conflict(input.name);
    const enabled = toSqlBool(dialect, input.enabled ?? true);
    const { rows = [] } = await db.sql`INSERT INTO servers (name, spec, enabled)
      VALUES (${input.name}, ${toSqlJson(input.spec)}, ${enabled}) RETURNING *`;
    return toRecord(rows[0]!);
  };
  const write = <T>(name: string, fn: (db: Database) => Promise<T>): Promise<T> =>
    gdb.transaction(fn).catch((error: unknown) => {
      // Another process can win the race between our check and the insert.
      throw isUniqueViolation(error) ? conflict(name) : error;
    });

  return {
    create: (input) => write(input.name, (db) => insert(db, input)),
    createMany: (inputs) =>
      gdb.transaction(async (db) => {
        const created: ServerRecord[] = [];
        for (const input of inputs) created.push(await insert(db, input));
        return created;
      }),
    get: (name) => gdb.transaction((db) => find(db, name)),
    list: () =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM servers ORDER BY name`;
        return rows.map(toRecord);
      }),
    update: (name, patch) =>
      write(patch.name ?? name, async (db) => {
        const current = await findOrThrow(db, name);
        const next = { ...current, ...patch };
        if (next.name !== name && (await find(db, next.name))) throw conflict(next.name);
        const enabled = toSqlBool(dialect, next.enabled);
        const { rows = [] } = await db.sql`UPDATE servers SET name = ${next.name}, spec = ${toSqlJson(next.spec)},
          enabled = ${enabled}, updated_at = ${new Date().toISOString()} WHERE id = ${current.id} RETURNING *`;
        return toRecord(rows[0]!);
      }),
    setEnabled: (name, enabled) =>
      gdb.transaction(async (db) => {
        await findOrThrow(db, name);
        const { rows = [] } = await db.sql`UPDATE servers SET enabled = ${toSqlBool(dialect, enabled)},
          updated_at = ${new Date().toISOString()} WHERE name = ${name} RETURNING *`;
        return toRecord(rows[0]!);
      }),
    delete: (name) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`DELETE FROM servers WHERE name = ${name} RETURNING id`;
        return rows.length > 0;
      }),
  };
}

/** Creates the entry metrics repository over an open gateway database. */
export function createMetricsRepository(gdb: GatewayDatabase): MetricsRepository {
  // The only dialect split here: scalar min/max is `min()`/`max()` in SQLite, `LEAST`/`GREATEST` in Postgres.
  const upsertMetrics = renderSql(
    gdb.dialect,
    `INSERT INTO entry_metrics (kind, name, calls, errors, latency_min_ms, latency_max_ms, latency_sum_ms, last_used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (kind, name) DO UPDATE SET
       calls = entry_metrics.calls + excluded.calls,
       errors = entry_metrics.errors + excluded.errors,
       latency_min_ms = {least}(COALESCE(entry_metrics.latency_min_ms, excluded.latency_min_ms), excluded.latency_min_ms),
       latency_max_ms = {greatest}(COALESCE(entry_metrics.latency_max_ms, excluded.latency_max_ms), excluded.latency_max_ms),
       latency_sum_ms = entry_metrics.latency_sum_ms + excluded.latency_sum_ms,
       last_used_at = {greatest}(COALESCE(entry_metrics.last_used_at, excluded.last_used_at), excluded.last_used_at)`,
  );
  const upsertBucket = `INSERT INTO entry_latency_buckets (kind, name, bucket, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (kind, name, bucket) DO UPDATE SET count = entry_latency_buckets.count + excluded.count`;

  return {
    record: (kind, name, latencyMs, ok) =>
      gdb.transaction(async (db) => {
        const latency = Math.max(0, latencyMs);
        const now = new Date().toISOString();
        await db.prepare(upsertMetrics).run(kind, name, 1, ok ? 0 : 1, latency, latency, latency, now);
        await db.prepare(upsertBucket).run(kind, name, bucketOf(latency), 1);
      }),
    addBatch: (deltas) =>
      gdb.transaction(async (db) => {
        for (const d of deltas) {
          if (!(d.calls > 0)) continue;
          const [min, max, sum] = [Math.max(0, d.minMs), Math.max(0, d.maxMs), Math.max(0, d.sumMs)];
          await db.prepare(upsertMetrics).run(d.kind, d.name, d.calls, d.errors, min, max, sum, d.lastUsed);
          for (const [bucket, count] of Object.entries(d.buckets)) {
            if (count > 0) await db.prepare(upsertBucket).run(d.kind, d.name, Number(bucket), count);
          }
        }
      }),
    list: () =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM entry_metrics ORDER BY kind, name`;
        const buckets = await db.sql`SELECT kind, name, bucket, count FROM entry_latency_buckets ORDER BY bucket`;
        const key = (r: Row) => `${String(r.kind)}\0${String(r.name)}`;
        const byEntry = new Map<string, Row[]>();
        for (const b of buckets.rows ?? []) {
          const list = byEntry.get(key(b)) ?? [];
          if (list.push(b) === 1) byEntry.set(key(b), list);
        }
        return rows.map((row) => ({
          kind: String(row.kind) as EntryKind,
          name: String(row.name),
          ...toMetrics(row, byEntry.get(key(row)) ?? []),
        }));
      }),
    get: (kind, name) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM entry_metrics WHERE kind = ${kind} AND name = ${name}`;
        const row = rows[0];
        if (!row) return emptyMetrics();
        const buckets = await db.sql`SELECT bucket, count FROM entry_latency_buckets
          WHERE kind = ${kind} AND name = ${name} ORDER BY bucket`;
        return toMetrics(row, buckets.rows ?? []);
      }),
    reset: (kind, name) =>
      gdb.transaction(async (db) => {
        if (kind === undefined || name === undefined) {
          await db.sql`DELETE FROM entry_metrics`;
          await db.sql`DELETE FROM entry_latency_buckets`;
          return;
        }
        await db.sql`DELETE FROM entry_metrics WHERE kind = ${kind} AND name = ${name}`;
        await db.sql`DELETE FROM entry_latency_buckets WHERE kind = ${kind} AND name = ${name}`;
      }),
  };
}

function conflict(name: string): GatewayError {
  return new GatewayError("CONFLICT", `A virtual server named "${name}" already exists`, {
    status: 409,
    data: { name },
  });
}

/** Index into `LATENCY_BUCKETS_MS` of the bucket holding `latencyMs` (the last index + 1 is open-ended). */
export function bucketOf(latencyMs: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BUCKETS_MS.length : index;
}

function toMetrics(row: Row, buckets: Row[]): EntryMetrics {
  const calls = Number(row.calls);
  const max = numberOrUndefined(row.latency_max_ms);
  return {
    calls,
    errors: Number(row.errors),
    min: numberOrUndefined(row.latency_min_ms),
    avg: calls > 0 ? Number(row.latency_sum_ms) / calls : undefined,
    p95: percentile(buckets, calls, 0.95, max),
    max,
    lastUsed: fromSqlTimestamp(row.last_used_at),
  };
}

function percentile(buckets: Row[], total: number, q: number, max: number | undefined): number | undefined {
  if (total === 0 || max === undefined) return undefined;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (const row of buckets) {
    seen += Number(row.count);
    if (seen >= rank) return Math.min(LATENCY_BUCKETS_MS[Number(row.bucket)] ?? max, max);
  }
  return max;
}

function numberOrUndefined(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

function emptyMetrics(): EntryMetrics {
  return { calls: 0, errors: 0, min: undefined, avg: undefined, p95: undefined, max: undefined, lastUsed: undefined };
}
