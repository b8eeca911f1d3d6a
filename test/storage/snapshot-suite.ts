import type { Database } from "db0";
import { describe, expect, it } from "vitest";
import type { GatewayDatabase } from "../../src/storage/database.ts";
import { createEntryRepository } from "../../src/storage/entries.ts";
import { createServerRepository } from "../../src/storage/repository.ts";
import { type CatalogSnapshot, exportCatalog, importCatalog } from "../../src/storage/snapshot.ts";
import { createUpstreamRepository } from "../../src/storage/upstreams.ts";
import { UNICODE_JSON, useDatabases } from "./_open.ts";
import type { StorageTarget } from "./suite.ts";

/** Seeds two servers, three entry overrides and two upstreams. */
async function seed(gdb: GatewayDatabase): Promise<void> {
  const servers = createServerRepository(gdb);
  await servers.create({ name: "b", spec: { tools: ["x_*"], meta: UNICODE_JSON } });
  await servers.create({ name: "a", spec: {}, enabled: false });
  const entries = createEntryRepository(gdb);
  await entries.upsert("tool", "search", { description: "Find ✓", annotations: UNICODE_JSON, tags: ["web"] });
  await entries.upsert("prompt", "greet", { enabled: false });
  await entries.upsert("resource", "file:///ä.md", { tags: ["docs", "ü"] });
  const upstreams = createUpstreamRepository(gdb);
  await upstreams.create("remote", { url: "http://127.0.0.1:1/mcp", headers: { Authorization: "Bearer s3cret" } });
  await upstreams.create("local", { command: "node", args: ["—"], nested: UNICODE_JSON }, false);
}

/** The catalog without its export time, for before/after comparisons. */
async function state(gdb: GatewayDatabase): Promise<Omit<CatalogSnapshot, "exportedAt">> {
  const { exportedAt: _, ...rest } = await exportCatalog(gdb);
  return rest;
}

/** A handle whose transactions fail at the `nth` statement matching `pattern`, like a driver error would. */
function failingAt(gdb: GatewayDatabase, pattern: RegExp, nth: number): GatewayDatabase {
  let seen = 0;
  const wrap = (db: Database): Database =>
    new Proxy(db, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop !== "sql" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
        return (strings: TemplateStringsArray, ...values: unknown[]) => {
          if (pattern.test(strings.join("?")) && ++seen === nth) return Promise.reject(new Error("injected driver failure"));
          return target.sql(strings, ...(values as never[]));
        };
      },
    });
  return { ...gdb, transaction: (fn) => gdb.transaction((db) => fn(wrap(db))) };
}

/** Catalog export/import conformance: every dialect must pass it. */
export function runSnapshotSuite(target: StorageTarget): void {
  describe(`catalog snapshot: ${target.name}`, () => {
    const { openFresh } = useDatabases(target);

    it("exports the whole catalog and replays it into an empty database unchanged", async () => {
      const source = await openFresh();
      await seed(source);
      const snapshot = await exportCatalog(source);
      expect(snapshot).toMatchObject({ format: "mcp-gateway-catalog", version: 1 });
      expect(snapshot.servers.map((s) => [s.name, s.enabled])).toEqual([["a", false], ["b", true]]);
      const remote = snapshot.upstreams.find((u) => u.name === "remote");
      expect(remote?.config).toMatchObject({ headers: { Authorization: "Bearer s3cret" } });
      expect(snapshot.entries.find((e) => e.name === "search")).toEqual({
        kind: "tool", name: "search", description: "Find ✓", annotations: UNICODE_JSON, tags: ["web"], enabled: true,
      });

      const copy = await openFresh();
      // Through JSON, as the admin API receives it.
      const counts = await importCatalog(copy, JSON.parse(JSON.stringify(snapshot)), "merge");
      expect(counts).toEqual({ servers: 2, entries: 3, upstreams: 2 });
      expect(await state(copy)).toEqual(await state(source));
    });

    it("replace swaps the catalog; merge adds disjoint names", async () => {
      const gdb = await openFresh();
      await seed(gdb);
      const base = { format: "mcp-gateway-catalog", version: 1 } as const;
      const counts = await importCatalog(gdb, { ...base, servers: [{ name: "only", spec: { v: 1 } }] }, "replace");
      expect(counts).toEqual({ servers: 1, entries: 0, upstreams: 0 });
      const only = { name: "only", spec: { v: 1 }, enabled: true };
      expect(await state(gdb)).toEqual({ ...base, servers: [only], entries: [], upstreams: [] });

      const more = {
        ...base,
        exportedAt: "x",
        servers: [{ name: "two", spec: {}, enabled: false }],
        entries: [{ kind: "tool", name: "only", tags: [], enabled: true }],
        upstreams: [{ name: "u", config: {} }],
      };
      expect(await importCatalog(gdb, more, "merge")).toEqual({ servers: 1, entries: 1, upstreams: 1 });
      const after = await state(gdb);
      expect(after.servers.map((s) => s.name)).toEqual(["only", "two"]);
      expect(after.entries).toEqual([{ kind: "tool", name: "only", tags: [], enabled: true }]);
      expect(after.upstreams).toEqual([{ name: "u", config: {}, enabled: true }]);
    });

    it("a merge clashing on the 3rd server fails with a 409 naming it and changes nothing", async () => {
      const gdb = await openFresh();
      await seed(gdb);
      const before = await state(gdb);
      const servers = ["new1", "new2", "b"].map((name) => ({ name, spec: {}, enabled: true }));
      const snapshot = { ...before, servers, entries: [], upstreams: [] };
      const error = await importCatalog(gdb, snapshot, "merge").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "CONFLICT", status: 409, data: { clashes: ['server "b"'] } });
      expect((error as Error).message).toContain('server "b"');
      expect(await state(gdb)).toEqual(before);
    });

    it("a replace with an invalid entry at the end fails with a 422 naming the field and changes nothing", async () => {
      const gdb = await openFresh();
      await seed(gdb);
      const before = await state(gdb);
      const entries = [...before.entries, { kind: "widget", name: "x", tags: [], enabled: true }];
      const snapshot = { ...before, servers: [], entries };
      const error = await importCatalog(gdb, snapshot, "replace").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "BAD_REQUEST", status: 422 });
      expect((error as Error).message).toContain('entries.3.kind: expected "tool", "prompt" or "resource"');
      expect(await state(gdb)).toEqual(before);
    });

    it("a replace that fails in the database after deleting everything rolls back to the old catalog", async () => {
      const gdb = await openFresh();
      await seed(gdb);
      const before = await state(gdb);
      const incoming = { ...before, servers: [{ name: "fresh", spec: {}, enabled: true }] };
      const failing = failingAt(gdb, /INSERT INTO upstreams/, 2);
      await expect(importCatalog(failing, incoming, "replace")).rejects.toThrow("injected driver failure");
      expect(await state(gdb)).toEqual(before);
      // The handle is usable afterwards, and the same import succeeds without the fault.
      expect(await importCatalog(gdb, incoming, "replace")).toEqual({ servers: 1, entries: 3, upstreams: 2 });
    });

    it("rejects malformed snapshots with 422 issues naming each field path", async () => {
      const gdb = await openFresh();
      const base = { format: "mcp-gateway-catalog", version: 1 };
      const cases: [unknown, string][] = [
        [null, "(root): expected an object"],
        [{ ...base, format: "other" }, 'format: expected "mcp-gateway-catalog"'],
        [{ ...base, version: 2 }, "version: expected 1"],
        [
          { ...base, servers: [{ name: "a", spec: {} }, { name: "b", spec: {} }, { name: 7, spec: {} }] },
          "servers.2.name: expected a string",
        ],
        [{ ...base, servers: [{ name: "a", spec: [] }] }, "servers.0.spec: expected an object"],
        [{ ...base, upstreams: [{ name: "", config: {} }] }, "upstreams.0.name: expected a non-empty string"],
        [{ ...base, entries: [{ kind: "tool", name: "t", tags: ["ok", 1] }] }, "entries.0.tags.1: expected a string"],
        [{ ...base, entries: "nope" }, "entries: expected an array"],
        [
          { ...base, servers: [{ name: "a", spec: {} }, { name: "a", spec: {} }] },
          'servers.1.name: duplicate server "a"',
        ],
      ];
      for (const [input, message] of cases) {
        const error = await importCatalog(gdb, input, "replace").catch((e: unknown) => e);
        expect(error, message).toMatchObject({ code: "BAD_REQUEST", status: 422 });
        expect((error as Error).message).toContain(message);
        expect((error as { data: { issues: string[] } }).data.issues).toContain(message);
      }
    });
  });
}
