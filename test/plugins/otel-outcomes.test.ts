/**
 * The router's outcome notifications the otel plugin relies on: `mcp:error` (a failed call, whoever failed it)
 * and `mcp:input_required` (an intermediate round). Plain plugins, no OpenTelemetry involved.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, definePlugin, type CallError, type Gateway, type GatewayPlugin } from "../../src/index.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { PluginRunner } from "../../src/plugins/runner.ts";
import { connectV1, firstText, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

let upstream: LegacyHttpServer;
beforeAll(async () => {
  upstream = await startLegacyHttpServer({ name: "out" });
});
afterAll(() => upstream?.close());

async function withGateway(plugins: GatewayPlugin[], run: (url: string) => Promise<void>): Promise<void> {
  const gw: Gateway = await createGateway({ log: { level: "silent" }, plugins, upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  try {
    await run(`${(await gw.listen({ port: 0 })).url}/mcp`);
  } finally {
    await gw.close();
  }
}

describe("call outcome notifications", () => {
  it("reports the JSON-RPC error the client gets to mcp:error: upstream errors, blocks, and after hooks that throw", async () => {
    const seen: { name?: string; error: CallError }[] = [];
    const watcher = definePlugin({ name: "watcher", hooks: { "mcp:error": (error, ctx) => void seen.push({ name: ctx.name, error }) } });
    const blocker = definePlugin({ name: "blocker", when: { names: ["up__add"] }, hooks: { "tools/call:before": () => ({ block: "no adding" }) } });
    const broken = definePlugin({
      name: "broken",
      when: { names: ["up__whoami"] },
      hooks: { "tools/call:after": () => { throw new Error("bug"); } },
    });
    await withGateway([watcher, blocker, broken], async (url) => {
      const client = await connectV1(url, "outcomes");
      const codes: Record<string, number> = {};
      for (const name of ["up__throws", "up__add", "up__whoami"]) {
        const error = (await client.callTool({ name, arguments: { a: 1, b: 2 } }).catch((e: unknown) => e)) as { code: number };
        codes[name] = error.code;
      }
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "fine" } }))).toBe("fine");
      await waitFor(() => seen.length === 3, 2000, "three mcp:error notifications");
      expect(seen.map((s) => [s.name, s.error.code])).toEqual([
        ["up__throws", codes.up__throws],
        ["up__add", -32012],
        ["up__whoami", -32603],
      ]);
      expect(seen[1]?.error.message).toBe("no adding");
      expect(seen[2]?.error.message).toMatch(/plugin "broken" failed/);
      await client.close();
    });
  });

  it("never lets a throwing mcp:error hook change what the client sees", async () => {
    const noisy = definePlugin({ name: "noisy", hooks: { "mcp:error": () => { throw new Error("observer bug"); } } });
    await withGateway([noisy], async (url) => {
      const client = await connectV1(url, "outcomes");
      const error = (await client.callTool({ name: "up__throws", arguments: {} }).catch((e: unknown) => e)) as Error;
      expect(error.message).toContain("boom");
      expect(error.message).not.toContain("observer bug");
      expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "ok" } }))).toBe("ok");
      await client.close();
    });
  });

  it("keeps the router's fast path when plugins only hook into HTTP requests or sessions", async () => {
    const log = createLogger("silent");
    const sessionsOnly = await PluginRunner.create([definePlugin({ name: "s", hooks: { "session:start": () => {}, "request:before": () => undefined } })], log);
    const watching = await PluginRunner.create([definePlugin({ name: "w", hooks: { "mcp:error": () => {} } })], log);
    expect([sessionsOnly.observesCalls, watching.observesCalls]).toEqual([false, true]);
  });
});
