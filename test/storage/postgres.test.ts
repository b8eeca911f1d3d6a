import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/storage/database.ts";
import { createServerRepository } from "../../src/storage/repository.ts";
import { waitFor } from "../_helpers.ts";
import { runStorageSuite } from "./suite.ts";
import { POSTGRES_ADMIN_URL, withPostgresAdmin } from "../_postgres.ts";

const created: string[] = [];

const reachable = await withPostgresAdmin(async () => true).catch((error: unknown) => {
  console.warn(`\n!!! PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable (${String(error)}): postgres storage tests ${process.env.CI === "true" ? "FAIL under CI" : "SKIPPED"} !!!\n`);
  return false;
});

if (!reachable) {
  // Under CI an unreachable database is a failure, locally a loud skip.
  describe.skipIf(process.env.CI !== "true")("storage: postgresql", () => {
    it("needs a reachable PostgreSQL", () => {
      expect.fail(`PostgreSQL at ${POSTGRES_ADMIN_URL} is unreachable`);
    });
  });
}

if (reachable) {
  // Throwaway databases, dropped after the file: parallel runs never share tables.
  const runId = `${process.pid}_${randomBytes(3).toString("hex")}`;
  let runDatabase: Promise<URL> | undefined;
  let schemas = 0;
  // A few drops at a time: one DROP DATABASE can take seconds under load.
  afterAll(async () => {
    const queue = [...created];
    const worker = () =>
      withPostgresAdmin(async (client) => {
        for (let name = queue.shift(); name; name = queue.shift()) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    await Promise.all(Array.from({ length: 4 }, worker));
  }, 120_000);

  runStorageSuite({
    name: "postgresql",
    persistent: true,
    multiConnection: true,
    // One schema per `fresh()` inside one run database (via `search_path`): CREATE DATABASE per test took
    // ~0.4 s plus a slow DROP each, and the suite needs ~40 fresh locations.
    fresh: async () => {
      runDatabase ??= withPostgresAdmin((client) => client.query(`CREATE DATABASE gw_test_${runId}`)).then(() => {
        created.push(`gw_test_${runId}`);
        const url = new URL(POSTGRES_ADMIN_URL);
        url.pathname = `/gw_test_${runId}`;
        return url;
      });
      const url = new URL(await runDatabase);
      const schema = `s${schemas++}`;
      const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.query(`CREATE SCHEMA ${schema}`).finally(() => client.end());
      // No WAL flush per commit: durability does not matter for a throwaway schema.
      url.searchParams.set("options", `-c search_path=${schema} -c synchronous_commit=off`);
      return { url: url.toString(), cwd: process.cwd() };
    },
  });

  describe("openDatabase (postgresql specifics)", () => {
    it("masks the password when a postgres URL cannot be reached", async () => {
      const error = await openDatabase("postgres://gateway:Sup3rSecret@127.0.0.1:1/gw", { cwd: process.cwd() }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: "INTERNAL" });
      const text = `${(error as Error).message} ${JSON.stringify(error)}`;
      expect(text).toContain("postgres://gateway:****@127.0.0.1:1/gw");
      expect(text).not.toContain("Sup3rSecret");
    });

    it("accepts the postgresql:// scheme", async () => {
      const name = `gw_test_${runId}_scheme`;
      await withPostgresAdmin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(POSTGRES_ADMIN_URL);
      url.pathname = `/${name}`;
      const gdb = await openDatabase(url.toString().replace(/^postgres:/, "postgresql:"), { cwd: process.cwd() });
      expect(gdb.dialect).toBe("postgresql");
      await gdb.close();
    });

    /** Opens a fresh database and returns a function that kills its server-side connections. */
    const openKillable = async (suffix: string) => {
      const name = `gw_test_${runId}_${suffix}`;
      await withPostgresAdmin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(POSTGRES_ADMIN_URL);
      url.pathname = `/${name}`;
      const gdb = await openDatabase(url.toString(), { cwd: process.cwd() });
      const backends = (client: pg.Client) =>
        client.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
      const terminate = () =>
        withPostgresAdmin(async (client) => {
          const { rowCount } = await client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [name],
          );
          await waitFor(async () => (await backends(client)).rowCount === 0, 5000, "the backend to exit");
          return rowCount;
        });
      return { gdb, terminate };
    };

    it("survives the server terminating its idle connection: one clear failure, then it reconnects", async () => {
      const { gdb, terminate } = await openKillable("term");
      const servers = createServerRepository(gdb);
      await servers.create({ name: "kept", spec: {} });
      for (let round = 0; round < 2; round++) {
        expect(await terminate()).toBe(1);
        // Without an `error` listener on the pg client, the termination is an uncaught exception here.
        const failure = await servers.list().catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(Error);
        expect((failure as Error).message).toMatch(/Lost the PostgreSQL connection|terminat/i);
        expect((await servers.list()).map((s) => s.name)).toEqual(["kept"]);
      }
      await gdb.close();
    });

    it("does not commit half a transaction whose connection died in the middle", async () => {
      const { gdb, terminate } = await openKillable("term_tx");
      const servers = createServerRepository(gdb);
      const result = await gdb
        .transaction(async (db) => {
          await db.sql`INSERT INTO servers (name, spec) VALUES (${"first"}, ${"{}"})`;
          await terminate();
          await db.sql`INSERT INTO servers (name, spec) VALUES (${"second"}, ${"{}"})`;
        })
        .catch((e: unknown) => e);
      expect(result).toBeInstanceOf(Error);
      expect(await servers.list()).toEqual([]);
      await gdb.close();
    });
  });
}
