import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { maskDatabaseUrl, openDatabase } from "../../src/storage/database.ts";
import { runStorageSuite } from "./suite.ts";

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "gw-storage-"));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

runStorageSuite({
  name: "sqlite file",
  persistent: true,
  fresh: async () => {
    const cwd = await tempDir();
    return { url: `file:${join(cwd, "db", "gateway.sqlite")}`, cwd };
  },
});

runStorageSuite({
  name: "sqlite default location",
  persistent: true,
  fresh: async () => ({ url: undefined, cwd: await tempDir() }),
});

runStorageSuite({
  name: "sqlite :memory:",
  persistent: false,
  fresh: async () => ({ url: "sqlite::memory:", cwd: await tempDir() }),
});

describe("openDatabase (sqlite specifics)", () => {
  it("stores the default database at <cwd>/.gateway/gateway.sqlite", async () => {
    const cwd = await tempDir();
    const gdb = await openDatabase(undefined, { cwd });
    await gdb.close();
    expect(gdb.dialect).toBe("sqlite");
    expect(existsSync(join(cwd, ".gateway", "gateway.sqlite"))).toBe(true);
  });

  it("keeps sqlite::memory: in memory instead of creating a file", async () => {
    const cwd = await tempDir();
    const gdb = await openDatabase("sqlite::memory:", { cwd });
    await gdb.close();
    expect(existsSync(join(cwd, ":memory:"))).toBe(false);
    expect(existsSync(join(cwd, ".data"))).toBe(false);
  });

  it("rejects an unsupported URL scheme without echoing its password", async () => {
    const error = await openDatabase("mysql://root:hunter2@db/x", { cwd: await tempDir() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect(String((error as Error).message)).not.toContain("hunter2");
  });

  it("masks only the password of a URL", () => {
    expect(maskDatabaseUrl("postgres://user:s3cr%40t@host:5432/db")).toBe("postgres://user:****@host:5432/db");
    expect(maskDatabaseUrl("postgres://user@host/db")).toBe("postgres://user@host/db");
  });
});
