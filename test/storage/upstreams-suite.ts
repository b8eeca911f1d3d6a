import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.ts";
import { createUpstreamRepository } from "../../src/storage/upstreams.ts";
import { UNICODE_JSON, useDatabases } from "./_open.ts";
import type { StorageTarget } from "./suite.ts";

/** `UpstreamRepository` conformance: every dialect must pass it. */
export function runUpstreamSuite(target: StorageTarget): void {
  describe(`run-time upstreams: ${target.name}`, () => {
    const { open, openFresh } = useDatabases(target);
    const stdio = { transport: "stdio", command: "node", args: ["server.js", "--name=Ærø"], env: { TOKEN: "🔑" } };

    it("creates, reads, lists, updates, toggles and deletes upstreams with nested JSON intact", async () => {
      const upstreams = createUpstreamRepository(await openFresh());
      const created = await upstreams.create("search", { ...stdio, extra: UNICODE_JSON });
      expect(created).toMatchObject({ name: "search", enabled: true, config: { ...stdio, extra: UNICODE_JSON } });
      expect(created.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(await upstreams.create("alpha", { url: "http://127.0.0.1:1/mcp" }, false)).toMatchObject({ enabled: false });

      expect(await upstreams.get("search")).toEqual(created);
      expect(await upstreams.get("missing")).toBeUndefined();
      expect((await upstreams.list()).map((u) => [u.name, u.enabled])).toEqual([["alpha", false], ["search", true]]);

      const updated = await upstreams.update("search", { transport: "http", url: "http://127.0.0.1:2/mcp" });
      expect(updated.config).toEqual({ transport: "http", url: "http://127.0.0.1:2/mcp" });
      expect(updated.createdAt).toBe(created.createdAt);
      expect(updated.updatedAt >= created.updatedAt).toBe(true);

      expect((await upstreams.setEnabled("search", false)).enabled).toBe(false);
      expect((await upstreams.setEnabled("alpha", true)).enabled).toBe(true);
      expect((await upstreams.get("search"))?.enabled).toBe(false);

      expect(await upstreams.delete("search")).toBe(true);
      expect(await upstreams.delete("search")).toBe(false);
      expect((await upstreams.list()).map((u) => u.name)).toEqual(["alpha"]);
    });

    it("rejects a taken name with a 409 naming it and an unknown name with a 404", async () => {
      const upstreams = createUpstreamRepository(await openFresh());
      await upstreams.create("search", stdio);
      const duplicate = await upstreams.create("search", {}).catch((e: unknown) => e);
      expect(duplicate).toBeInstanceOf(GatewayError);
      expect(duplicate).toMatchObject({ code: "CONFLICT", status: 409, data: { name: "search" } });
      expect((duplicate as Error).message).toContain('"search"');
      expect((await upstreams.get("search"))?.config).toEqual(stdio);

      for (const call of [() => upstreams.update("nope", {}), () => upstreams.setEnabled("nope", true)]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "NOT_FOUND", status: 404 });
        expect((error as Error).message).toContain('"nope"');
      }
      expect(await upstreams.list()).toHaveLength(1);
    });

    const persistentIt = target.persistent ? it : () => {};
    persistentIt("keeps upstreams and their enabled flag across a re-open", async () => {
      const loc = await target.fresh();
      const first = createUpstreamRepository(await open(loc));
      await first.create("kept", { ...stdio, extra: UNICODE_JSON }, false);
      const reopened = createUpstreamRepository(await open(loc));
      expect(await reopened.get("kept")).toMatchObject({ enabled: false, config: { ...stdio, extra: UNICODE_JSON } });
    });
  });
}
