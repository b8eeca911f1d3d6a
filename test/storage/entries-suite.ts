import { describe, expect, it } from "vitest";
import { createEntryRepository } from "../../src/storage/entries.ts";
import { UNICODE_JSON, useDatabases } from "./_open.ts";
import type { StorageTarget } from "./suite.ts";

/** `EntryRepository` conformance: every dialect must pass it. */
export function runEntrySuite(target: StorageTarget): void {
  describe(`entry overrides: ${target.name}`, () => {
    const { open, openFresh } = useDatabases(target);

    it("creates an override on first upsert, merges later patches and clears fields with null", async () => {
      const entries = createEntryRepository(await openFresh());
      const created = await entries.upsert("tool", "search", { description: "Find ✓", tags: ["web"] });
      expect(created).toEqual({
        kind: "tool",
        name: "search",
        description: "Find ✓",
        tags: ["web"],
        enabled: true,
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });

      const annotated = await entries.upsert("tool", "search", { annotations: UNICODE_JSON });
      expect(annotated).toMatchObject({ description: "Find ✓", annotations: UNICODE_JSON, tags: ["web"], enabled: true });

      const cleared = await entries.upsert("tool", "search", { description: null, enabled: false, tags: [] });
      expect(cleared).not.toHaveProperty("description");
      expect(cleared).toMatchObject({ annotations: UNICODE_JSON, tags: [], enabled: false });
      expect(await entries.get("tool", "search")).toEqual(cleared);

      const bare = await entries.upsert("tool", "search", { annotations: null });
      expect(bare).not.toHaveProperty("annotations");
      expect(await entries.get("tool", "missing")).toBeUndefined();
    });

    it("keeps entries of different kinds apart and lists them by kind then name", async () => {
      const entries = createEntryRepository(await openFresh());
      await entries.upsert("tool", "x", { tags: ["t"] });
      await entries.upsert("prompt", "x", { enabled: false });
      await entries.upsert("resource", "file:///docs/read me.md", { description: "Ünïcode URI" });
      await entries.upsert("tool", "a", {});

      expect((await entries.list()).map((e) => [e.kind, e.name])).toEqual([
        ["prompt", "x"],
        ["resource", "file:///docs/read me.md"],
        ["tool", "a"],
        ["tool", "x"],
      ]);
      expect((await entries.list("tool")).map((e) => e.name)).toEqual(["a", "x"]);
      expect(await entries.get("prompt", "x")).toMatchObject({ enabled: false, tags: [] });
      expect(await entries.get("tool", "x")).toMatchObject({ enabled: true, tags: ["t"] });

      expect(await entries.delete("prompt", "x")).toBe(true);
      expect(await entries.delete("prompt", "x")).toBe(false);
      expect(await entries.get("tool", "x")).toBeDefined();
      expect(await entries.list("prompt")).toEqual([]);
    });

    it("loses no update when 100 parallel callers patch different fields of the same entries", async () => {
      const loc = await target.fresh();
      const gdb = await open(loc);
      // Postgres: half the callers write through a second connection, so only row locks keep them apart.
      const second = target.multiConnection ? await open(loc) : gdb;
      const repos = [createEntryRepository(gdb), createEntryRepository(second)];
      const names = Array.from({ length: 25 }, (_, i) => `tool_${i}`);
      await Promise.all(
        names.flatMap((name, i) => [
          repos[i % 2]!.upsert("tool", name, { description: `d${i}` }),
          repos[(i + 1) % 2]!.upsert("tool", name, { annotations: { i } }),
          repos[i % 2]!.upsert("tool", name, { tags: [`t${i}`] }),
          repos[(i + 1) % 2]!.upsert("tool", name, { enabled: false }),
        ]),
      );
      const all = await repos[0]!.list("tool");
      expect(all).toHaveLength(25);
      for (const [i, name] of names.entries()) {
        const entry = all.find((e) => e.name === name);
        expect(entry).toMatchObject({ description: `d${i}`, annotations: { i }, tags: [`t${i}`], enabled: false });
      }
    });

    const persistentIt = target.persistent ? it : () => {};
    persistentIt("keeps overrides across a re-open", async () => {
      const loc = await target.fresh();
      const first = await open(loc);
      const patch = { description: "Hallo 👋", annotations: UNICODE_JSON };
      await createEntryRepository(first).upsert("prompt", "greet", patch);
      await first.close();
      const entries = createEntryRepository(await open(loc));
      expect(await entries.get("prompt", "greet")).toMatchObject({ ...patch, enabled: true });
    });
  });
}
