import { afterEach } from "vitest";
import { type GatewayDatabase, openDatabase } from "../../src/storage/database.ts";
import type { StorageTarget } from "./suite.ts";

/** Opens databases on `target` for one describe block and closes them all after each test. */
export function useDatabases(target: StorageTarget) {
  const opened: GatewayDatabase[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((gdb) => gdb.close()));
  });
  const open = async (loc: { url: string | undefined; cwd: string }) => {
    const gdb = await openDatabase(loc.url, { cwd: loc.cwd });
    opened.push(gdb);
    return gdb;
  };
  return { open, openFresh: async () => open(await target.fresh()) };
}

/** Nested, non-ASCII JSON that must survive a round trip through a `{json}` column unchanged. */
export const UNICODE_JSON = {
  title: "Grüße — 日本語 ✓ 🔎",
  quote: 'it\'s "quoted" \\ back\nslash',
  nested: { list: [1, 2.5, -3, true, null, { deep: ["é", { emoji: "🧪" }] }], empty: {}, none: [] },
};
