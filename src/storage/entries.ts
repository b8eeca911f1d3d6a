import type { Database } from "db0";
import type { GatewayDatabase } from "./database.ts";
import { type Dialect, fromSqlJson, fromSqlTimestamp, toSqlBool, toSqlJson } from "./dialect.ts";
import type { EntryKind } from "./repository.ts";

/** A run-time override of one catalog entry (row of `entries`; `definition` holds description/annotations). */
export interface EntryOverrideRecord {
  kind: EntryKind;
  /** Exposed name (a resource's URI). */
  name: string;
  description?: string;
  annotations?: Record<string, unknown>;
  tags: string[];
  enabled: boolean;
  updatedAt: string;
}

/** Fields to change; an absent field is kept, `null` clears it. Objects and arrays replace the old value. */
export interface EntryPatch {
  description?: string | null;
  annotations?: Record<string, unknown> | null;
  tags?: string[];
  enabled?: boolean;
}

/** Typed access to the `entries` table. Every write is one transaction. */
export interface EntryRepository {
  /** Every override, or those of one kind, ordered by kind then name. */
  list(kind?: EntryKind): Promise<EntryOverrideRecord[]>;
  get(kind: EntryKind, name: string): Promise<EntryOverrideRecord | undefined>;
  /** Creates the override or merges the patch into it, in one transaction. */
  upsert(kind: EntryKind, name: string, patch: EntryPatch): Promise<EntryOverrideRecord>;
  /** Returns false when there was no override. */
  delete(kind: EntryKind, name: string): Promise<boolean>;
}

/** The `definition` column of an override. */
interface EntryDefinition {
  description?: string;
  annotations?: Record<string, unknown>;
}

type Row = Record<string, unknown>;

/** Maps an `entries` row to a record. */
export function entryFromRow(dialect: Dialect, row: Row): EntryOverrideRecord {
  const definition = fromSqlJson<EntryDefinition | null>(dialect, row.definition) ?? {};
  return {
    kind: String(row.kind) as EntryKind,
    name: String(row.name),
    ...(typeof definition.description === "string" ? { description: definition.description } : {}),
    ...(definition.annotations ? { annotations: definition.annotations } : {}),
    tags: fromSqlJson<string[] | null>(dialect, row.tags) ?? [],
    enabled: Boolean(row.enabled),
    updatedAt: fromSqlTimestamp(row.updated_at) ?? "",
  };
}

/** Inserts one override row inside the caller's transaction (a duplicate throws the driver's unique violation). */
export async function insertEntry(
  db: Database,
  dialect: Dialect,
  entry: Omit<EntryOverrideRecord, "updatedAt">,
): Promise<void> {
  const definition: EntryDefinition = { description: entry.description, annotations: entry.annotations };
  await db.sql`INSERT INTO entries (kind, name, definition, enabled, tags)
    VALUES (${entry.kind}, ${entry.name}, ${toSqlJson(definition)}, ${toSqlBool(dialect, entry.enabled)}, ${toSqlJson(entry.tags)})`;
}

/** Creates the entry override repository over an open gateway database. */
export function createEntryRepository(gdb: GatewayDatabase): EntryRepository {
  const { dialect } = gdb;
  // Locks the row against writers on other connections (SQLite's BEGIN IMMEDIATE already does).
  const forUpdate = dialect === "postgresql" ? " FOR UPDATE" : "";
  const find = async (db: Database, kind: EntryKind, name: string, lock = ""): Promise<EntryOverrideRecord | undefined> => {
    const rows = await db.prepare(`SELECT * FROM entries WHERE kind = ? AND name = ?${lock}`).all(kind, name);
    return rows[0] ? entryFromRow(dialect, rows[0] as Row) : undefined;
  };

  return {
    list: (kind) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = kind
          ? await db.sql`SELECT * FROM entries WHERE kind = ${kind} ORDER BY name`
          : await db.sql`SELECT * FROM entries ORDER BY kind, name`;
        return rows.map((row) => entryFromRow(dialect, row));
      }),
    get: (kind, name) => gdb.transaction((db) => find(db, kind, name)),
    upsert: (kind, name, patch) =>
      gdb.transaction(async (db) => {
        // Insert-if-absent first, so a concurrent first write on another connection waits on the row lock.
        await db.sql`INSERT INTO entries (kind, name, definition) VALUES (${kind}, ${name}, ${"{}"})
          ON CONFLICT (kind, name) DO NOTHING`;
        const current = (await find(db, kind, name, forUpdate))!;
        const next = applyPatch(current, patch);
        const definition: EntryDefinition = { description: next.description, annotations: next.annotations };
        const { rows = [] } = await db.sql`UPDATE entries SET definition = ${toSqlJson(definition)},
          tags = ${toSqlJson(next.tags)}, enabled = ${toSqlBool(dialect, next.enabled)},
          updated_at = ${new Date().toISOString()} WHERE kind = ${kind} AND name = ${name} RETURNING *`;
        return entryFromRow(dialect, rows[0]!);
      }),
    delete: (kind, name) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`DELETE FROM entries WHERE kind = ${kind} AND name = ${name} RETURNING id`;
        return rows.length > 0;
      }),
  };
}

function applyPatch(current: EntryOverrideRecord, patch: EntryPatch): EntryOverrideRecord {
  const next = { ...current };
  if (patch.description === null) delete next.description;
  else if (patch.description !== undefined) next.description = patch.description;
  if (patch.annotations === null) delete next.annotations;
  else if (patch.annotations !== undefined) next.annotations = patch.annotations;
  if (patch.tags !== undefined) next.tags = [...patch.tags];
  if (patch.enabled !== undefined) next.enabled = patch.enabled;
  return next;
}
