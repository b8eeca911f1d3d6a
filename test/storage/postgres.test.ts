import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/storage/database.ts";
import { runStorageSuite } from "./suite.ts";

const ADMIN_URL = process.env.GATEWAY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const created: string[] = [];

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const reachable = await withAdmin(async () => true).catch((error: unknown) => {
  console.warn(`\n!!! PostgreSQL at ${ADMIN_URL} is unreachable (${String(error)}): postgres storage tests ${process.env.CI === "true" ? "FAIL under CI" : "SKIPPED"} !!!\n`);
  return false;
});

if (!reachable) {
  // Under CI an unreachable database is a failure, locally a loud skip.
  describe.skipIf(process.env.CI !== "true")("storage: postgresql", () => {
    it("needs a reachable PostgreSQL", () => {
      expect.fail(`PostgreSQL at ${ADMIN_URL} is unreachable`);
    });
  });
}

if (reachable) {
  // One throwaway database per `fresh()`, dropped after the file: parallel runs never share tables.
  const runId = `${process.pid}_${randomBytes(3).toString("hex")}`;
  afterAll(async () => {
    await withAdmin(async (client) => {
      for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });

  runStorageSuite({
    name: "postgresql",
    persistent: true,
    fresh: async () => {
      const name = `gw_test_${runId}_${created.length}`;
      await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
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
      await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(ADMIN_URL);
      url.pathname = `/${name}`;
      const gdb = await openDatabase(url.toString().replace(/^postgres:/, "postgresql:"), { cwd: process.cwd() });
      expect(gdb.dialect).toBe("postgresql");
      await gdb.close();
    });
  });
}
