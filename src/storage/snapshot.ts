import type { Database } from "db0";
import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import type { GatewayDatabase } from "./database.ts";
import { fromSqlJson, isUniqueViolation, toSqlBool, toSqlJson } from "./dialect.ts";
import { type EntryOverrideRecord, entryFromRow, insertEntry } from "./entries.ts";

/** The whole run-time catalog (servers, entry overrides, upstreams) as one JSON document. */
export interface CatalogSnapshot {
  format: "mcp-gateway-catalog";
  version: 1;
  exportedAt: string;
  servers: { name: string; spec: Record<string, unknown>; enabled: boolean }[];
  entries: Omit<EntryOverrideRecord, "updatedAt">[];
  upstreams: { name: string; config: Record<string, unknown>; enabled: boolean }[];
}

/** How many rows an import wrote, per table. */
export interface ImportCounts {
  servers: number;
  entries: number;
  upstreams: number;
}

const Name = v.pipe(v.string("expected a string"), v.minLength(1, "expected a non-empty string"));
const Bool = v.optional(v.boolean("expected a boolean"), true);
const JsonObject = v.custom<Record<string, unknown>>(
  (input) => typeof input === "object" && input !== null && !Array.isArray(input),
  "expected an object",
);
const list = <T extends v.GenericSchema>(item: T) => v.optional(v.array(item, "expected an array"), []);

const SnapshotSchema = v.object(
  {
    format: v.literal("mcp-gateway-catalog", 'expected "mcp-gateway-catalog"'),
    version: v.literal(1, "expected 1"),
    exportedAt: v.optional(v.string("expected a string")),
    servers: list(v.object({ name: Name, spec: JsonObject, enabled: Bool }, "expected an object")),
    entries: list(
      v.object(
        {
          kind: v.picklist(["tool", "prompt", "resource"], 'expected "tool", "prompt" or "resource"'),
          name: Name,
          description: v.optional(v.string("expected a string")),
          annotations: v.optional(JsonObject),
          tags: v.optional(v.array(v.string("expected a string"), "expected an array"), []),
          enabled: Bool,
        },
        "expected an object",
      ),
    ),
    upstreams: list(v.object({ name: Name, config: JsonObject, enabled: Bool }, "expected an object")),
  },
  "expected an object",
);

type ParsedSnapshot = v.InferOutput<typeof SnapshotSchema>;

/** Reads the whole run-time catalog in one transaction. Raw: secrets in specs/configs are NOT masked. */
export function exportCatalog(gdb: GatewayDatabase): Promise<CatalogSnapshot> {
  const { dialect } = gdb;
  return gdb.transaction(async (db) => {
    const servers = (await db.sql`SELECT name, spec, enabled FROM servers ORDER BY name`).rows ?? [];
    const entries = (await db.sql`SELECT * FROM entries ORDER BY kind, name`).rows ?? [];
    const upstreams = (await db.sql`SELECT name, config, enabled FROM upstreams ORDER BY name`).rows ?? [];
    return {
      format: "mcp-gateway-catalog",
      version: 1,
      exportedAt: new Date().toISOString(),
      servers: servers.map((r) => ({ name: String(r.name), spec: fromSqlJson(dialect, r.spec), enabled: Boolean(r.enabled) })),
      entries: entries.map((row) => {
        const { updatedAt: _, ...entry } = entryFromRow(dialect, row);
        return entry;
      }),
      upstreams: upstreams.map((r) => ({
        name: String(r.name),
        config: fromSqlJson(dialect, r.config),
        enabled: Boolean(r.enabled),
      })),
    };
  });
}

/**
 * All or nothing, in ONE transaction: `replace` deletes existing servers/entries/upstreams first; `merge`
 * fails with CONFLICT 409 (naming the clash) if any name exists. A failure changes nothing.
 * Validates the snapshot shape first (BAD_REQUEST 422 naming the field path, e.g. `servers.2.name: expected a string`).
 */
export async function importCatalog(
  gdb: GatewayDatabase,
  snapshot: unknown,
  mode: "merge" | "replace",
): Promise<ImportCounts> {
  if (mode !== "merge" && mode !== "replace") {
    throw new GatewayError("BAD_REQUEST", `Unknown import mode "${String(mode)}": use merge or replace`, { status: 422 });
  }
  const snap = parseSnapshot(snapshot);
  const { dialect } = gdb;
  return gdb
    .transaction(async (db) => {
      if (mode === "replace") {
        await db.sql`DELETE FROM servers`;
        await db.sql`DELETE FROM entries`;
        await db.sql`DELETE FROM upstreams`;
      } else {
        const clashes = await findClashes(db, snap);
        if (clashes.length > 0) {
          throw new GatewayError("CONFLICT", `Cannot merge the catalog, names already taken: ${clashes.join(", ")}`, {
            status: 409,
            data: { clashes },
          });
        }
      }
      for (const s of snap.servers) {
        await db.sql`INSERT INTO servers (name, spec, enabled)
          VALUES (${s.name}, ${toSqlJson(s.spec)}, ${toSqlBool(dialect, s.enabled)})`;
      }
      for (const e of snap.entries) await insertEntry(db, dialect, e);
      for (const u of snap.upstreams) {
        await db.sql`INSERT INTO upstreams (name, config, enabled)
          VALUES (${u.name}, ${toSqlJson(u.config)}, ${toSqlBool(dialect, u.enabled)})`;
      }
      return { servers: snap.servers.length, entries: snap.entries.length, upstreams: snap.upstreams.length };
    })
    .catch((error: unknown) => {
      // Only reachable when another connection wrote a clashing name after our check.
      if (!isUniqueViolation(error)) throw error;
      throw new GatewayError("CONFLICT", "Cannot import the catalog: a name was taken concurrently, nothing was changed", {
        status: 409,
      });
    });
}

function parseSnapshot(input: unknown): ParsedSnapshot {
  const result = v.safeParse(SnapshotSchema, input);
  const issues = result.success
    ? duplicateIssues(result.output)
    : result.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`);
  if (issues.length > 0 || !result.success) {
    throw new GatewayError("BAD_REQUEST", `Invalid catalog snapshot: ${issues.join("; ")}`, {
      status: 422,
      data: { issues },
    });
  }
  return result.output;
}

function duplicateIssues(snap: ParsedSnapshot): string[] {
  const issues: string[] = [];
  const check = (field: string, keys: string[], label: (i: number) => string) => {
    const seen = new Set<string>();
    keys.forEach((key, i) => {
      if (seen.has(key)) issues.push(`${field}.${i}.name: duplicate ${label(i)}`);
      seen.add(key);
    });
  };
  check("servers", snap.servers.map((s) => s.name), (i) => `server "${snap.servers[i]!.name}"`);
  const entryLabel = (i: number) => `${snap.entries[i]!.kind} "${snap.entries[i]!.name}"`;
  check("entries", snap.entries.map((e) => `${e.kind}\0${e.name}`), entryLabel);
  check("upstreams", snap.upstreams.map((u) => u.name), (i) => `upstream "${snap.upstreams[i]!.name}"`);
  return issues;
}

async function findClashes(db: Database, snap: ParsedSnapshot): Promise<string[]> {
  const servers = new Set(((await db.sql`SELECT name FROM servers`).rows ?? []).map((r) => String(r.name)));
  const entryRows = (await db.sql`SELECT kind, name FROM entries`).rows ?? [];
  const entries = new Set(entryRows.map((r) => `${String(r.kind)}\0${String(r.name)}`));
  const upstreams = new Set(((await db.sql`SELECT name FROM upstreams`).rows ?? []).map((r) => String(r.name)));
  return [
    ...snap.servers.filter((s) => servers.has(s.name)).map((s) => `server "${s.name}"`),
    ...snap.entries.filter((e) => entries.has(`${e.kind}\0${e.name}`)).map((e) => `${e.kind} "${e.name}"`),
    ...snap.upstreams.filter((u) => upstreams.has(u.name)).map((u) => `upstream "${u.name}"`),
  ];
}
