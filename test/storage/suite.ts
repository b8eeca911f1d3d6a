import { afterEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.ts";
import { type GatewayDatabase, openDatabase } from "../../src/storage/database.ts";
import { appliedVersions, migrations } from "../../src/storage/migrations.ts";
import { createMetricsRepository, createServerRepository } from "../../src/storage/repository.ts";
import { runEntrySuite } from "./entries-suite.ts";
import { runMetricsBatchSuite } from "./metrics-suite.ts";
import { runSnapshotSuite } from "./snapshot-suite.ts";
import { runUpstreamSuite } from "./upstreams-suite.ts";

/** A place to open gateway databases: a fresh, empty location per `fresh()` call. */
export interface StorageTarget {
  name: string;
  /** False for `:memory:`: each open is a new database, so re-open/concurrency tests do not apply. */
  persistent: boolean;
  /** True when two open handles on one location may write concurrently (Postgres; SQLite's writer lock would block the thread). */
  multiConnection?: boolean;
  fresh(): Promise<{ url: string | undefined; cwd: string }>;
}

/** The conformance suite every storage dialect must pass. */
export function runStorageSuite(target: StorageTarget): void {
  describe(`storage: ${target.name}`, () => {
    const opened: GatewayDatabase[] = [];
    const open = async (loc: { url: string | undefined; cwd: string }) => {
      const gdb = await openDatabase(loc.url, { cwd: loc.cwd });
      opened.push(gdb);
      return gdb;
    };
    const openFresh = async () => open(await target.fresh());
    const latest = Math.max(...migrations.map((m) => m.version));

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((gdb) => gdb.close()));
    });

    it("applies every migration on first open and records each version", async () => {
      const gdb = await openFresh();
      expect(gdb.migrated).toEqual(migrations.map((m) => m.version));
      expect([...(await appliedVersions(gdb.db))]).toContain(latest);
    });

    const persistentIt = target.persistent ? it : () => {};
    persistentIt("re-opening an up-to-date database applies nothing", async () => {
      const loc = await target.fresh();
      const first = await open(loc);
      await first.close();
      const second = await open(loc);
      expect(second.migrated).toEqual([]);
      const { rows = [] } = await second.db.sql`SELECT version FROM schema_migrations`;
      expect(rows).toHaveLength(migrations.length);
    });

    persistentIt("two connections opening at once apply each migration exactly once", async () => {
      const loc = await target.fresh();
      const [a, b] = await Promise.all([open(loc), open(loc)]);
      expect([...a.migrated, ...b.migrated].sort()).toEqual(migrations.map((m) => m.version));
      const { rows = [] } = await a.db.sql`SELECT version FROM schema_migrations`;
      expect(rows).toHaveLength(migrations.length);
    });

    it("creates, reads, lists, updates, disables and deletes virtual servers", async () => {
      const servers = createServerRepository(await openFresh());
      const created = await servers.create({ name: "dev", spec: { tools: ["search_*"], nested: { a: 1 } } });
      expect(created).toMatchObject({ name: "dev", enabled: true, spec: { tools: ["search_*"], nested: { a: 1 } } });
      expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      await servers.create({ name: "alpha", spec: {}, enabled: false });

      expect(await servers.get("dev")).toEqual(created);
      expect(await servers.get("missing")).toBeUndefined();
      expect((await servers.list()).map((s) => [s.name, s.enabled])).toEqual([["alpha", false], ["dev", true]]);

      const renamed = await servers.update("dev", { name: "prod", spec: { tools: [] } });
      expect(renamed).toMatchObject({ id: created.id, name: "prod", spec: { tools: [] }, enabled: true });
      expect((await servers.setEnabled("prod", false)).enabled).toBe(false);
      expect(await servers.delete("prod")).toBe(true);
      expect(await servers.delete("prod")).toBe(false);
      expect((await servers.list()).map((s) => s.name)).toEqual(["alpha"]);
    });

    it("rejects a duplicate server name with a 409 naming the clash", async () => {
      const servers = createServerRepository(await openFresh());
      await servers.create({ name: "dev", spec: {} });
      await servers.create({ name: "other", spec: {} });
      const duplicate = await servers.create({ name: "dev", spec: {} }).catch((e: unknown) => e);
      expect(duplicate).toBeInstanceOf(GatewayError);
      expect(duplicate).toMatchObject({ code: "CONFLICT", status: 409 });
      expect((duplicate as Error).message).toContain('"dev"');
      await expect(servers.update("other", { name: "dev" })).rejects.toMatchObject({ status: 409 });
      await expect(servers.update("nope", { spec: {} })).rejects.toMatchObject({ code: "NOT_FOUND", status: 404 });
    });

    it("rolls back a multi-row write that fails part-way", async () => {
      const servers = createServerRepository(await openFresh());
      await servers.create({ name: "taken", spec: {} });
      const batch = [{ name: "one", spec: {} }, { name: "two", spec: {} }, { name: "taken", spec: {} }];
      await expect(servers.createMany(batch)).rejects.toMatchObject({ status: 409 });
      expect((await servers.list()).map((s) => s.name)).toEqual(["taken"]);
      // The connection is usable after the rollback.
      expect(await servers.createMany(batch.slice(0, 2))).toHaveLength(2);
    });

    it("counts 200 concurrent metric records exactly", async () => {
      const metrics = createMetricsRepository(await openFresh());
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => metrics.record("tool", "search", i + 1, i % 10 !== 0)),
      );
      const m = await metrics.get("tool", "search");
      expect(m).toMatchObject({ calls: 200, errors: 20, min: 1, max: 200 });
      expect(m.avg).toBeCloseTo(100.5);
      expect(m.lastUsed).toMatch(/^\d{4}-\d\d-\d\dT/);
      // True p95 is 190; buckets are (100, 200], so p95 is reported as the bucket bound 200.
      expect(m.p95).toBeGreaterThanOrEqual(190);
      expect(m.p95).toBeLessThanOrEqual(m.max!);
      expect((await metrics.get("prompt", "search")).calls).toBe(0);
    });

    it("reports a p95 that ignores a few slow outliers", async () => {
      const metrics = createMetricsRepository(await openFresh());
      for (let i = 0; i < 98; i++) await metrics.record("tool", "fast", 3, true);
      await metrics.record("tool", "fast", 40_000, true);
      await metrics.record("tool", "fast", 50_000, true);
      const m = await metrics.get("tool", "fast");
      expect(m.p95).toBe(5);
      expect(m.max).toBe(50_000);
    });

    it("resets one entry or all entries", async () => {
      const metrics = createMetricsRepository(await openFresh());
      await metrics.record("tool", "a", 5, true);
      await metrics.record("resource", "b", 5, false);
      await metrics.reset("tool", "a");
      expect((await metrics.get("tool", "a")).calls).toBe(0);
      expect((await metrics.get("resource", "b")).errors).toBe(1);
      await metrics.reset();
      expect(await metrics.get("resource", "b")).toMatchObject({ calls: 0, p95: undefined, lastUsed: undefined });
    });
  });
  runEntrySuite(target);
  runUpstreamSuite(target);
  runMetricsBatchSuite(target);
  runSnapshotSuite(target);
}
