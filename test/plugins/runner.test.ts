import { describe, expect, it } from "vitest";
import { GatewayError, JsonRpcCode } from "../../src/errors.ts";
import { PluginRunner } from "../../src/plugins/runner.ts";
import { definePlugin, type GatewayPlugin, type HookContext } from "../../src/plugins/types.ts";
import { createLogger } from "../../src/_utils/logger.ts";

const log = createLogger("silent");

function ctx(over: Partial<HookContext> = {}): HookContext {
  return { method: "tools/call", name: "up__echo", upstream: "up", sessionId: "s", signal: new AbortController().signal, log, state: new Map(), retry: false, ...over };
}

const appendArg = (name: string, value: string, extra: Partial<GatewayPlugin> = {}) =>
  definePlugin({
    name,
    ...extra,
    hooks: {
      "tools/call:before": ({ params }) => ({
        payload: { params: { ...params, arguments: { ...(params.arguments as object), trail: `${(params.arguments as { trail?: string }).trail ?? ""}${value}` } } },
      }),
    },
  });

async function trail(plugins: GatewayPlugin[], context = ctx()): Promise<string | undefined> {
  const runner = await PluginRunner.create(plugins, log);
  const out = await runner.run("tools/call:before", { params: { name: "up__echo", arguments: {} } }, context);
  return (out.params.arguments as { trail?: string }).trail;
}

describe("PluginRunner", () => {
  it("runs hooks by priority, then config order, each seeing the previous payload", async () => {
    expect(await trail([appendArg("a", "a"), appendArg("b", "b", { priority: 10 }), appendArg("c", "c")])).toBe("bac");
  });

  it("skips plugins that are off or whose conditions do not match", async () => {
    expect(
      await trail([
        appendArg("off", "x", { mode: "off" }),
        appendArg("other-upstream", "y", { when: { upstreams: ["search"] } }),
        appendArg("glob", "z", { when: { names: ["up__*"] } }),
      ]),
    ).toBe("z");
  });

  it("turns a block into a JSON-RPC error carrying the plugin's code and data", async () => {
    const runner = await PluginRunner.create(
      [definePlugin({ name: "guard", hooks: { "tools/call:before": () => ({ block: { message: "slow down", code: -32029, data: { retryAfter: 3 } } }) } })],
      log,
    );
    const error = await runner.run("tools/call:before", { params: {} }, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ message: "slow down", rpcCode: -32029, data: { plugin: "guard", retryAfter: 3 } });
  });

  it("in permissive mode only logs what it would have blocked or changed", async () => {
    const runner = await PluginRunner.create(
      [
        definePlugin({ name: "audit", mode: "permissive", hooks: { "tools/call:before": () => ({ block: "no" }) } }),
        appendArg("change", "x", { mode: "permissive" }),
      ],
      log,
    );
    const out = await runner.run("tools/call:before", { params: { arguments: {} } }, ctx());
    expect(out.params).toEqual({ arguments: {} });
  });

  it("fails closed by default and open when asked, on a throw or a timeout, without crashing", async () => {
    const throwing = (extra: Partial<GatewayPlugin>) =>
      definePlugin({ name: "bad", ...extra, hooks: { "tools/call:before": () => { throw new Error("kaput"); } } });
    const hanging = (extra: Partial<GatewayPlugin>) =>
      definePlugin({ name: "slow", timeout: 50, ...extra, hooks: { "tools/call:before": () => new Promise(() => {}) } });

    for (const plugin of [throwing({}), hanging({})]) {
      const error = await (await PluginRunner.create([plugin], log)).run("tools/call:before", { params: {} }, ctx()).catch((e: unknown) => e);
      expect(error).toMatchObject({ rpcCode: JsonRpcCode.InternalError });
      expect(String((error as Error).message)).not.toContain("kaput");
    }
    for (const plugin of [throwing({ onError: "fail-open" }), hanging({ onError: "fail-open" })]) {
      const out = await (await PluginRunner.create([plugin], log)).run("tools/call:before", { params: { ok: 1 } }, ctx());
      expect(out.params).toEqual({ ok: 1 });
    }
  });

  it("reports a failing setup as a start-up error naming the plugin, and tears down in reverse order", async () => {
    await expect(PluginRunner.create([definePlugin({ name: "broken", setup: () => { throw new Error("no db"); } })], log)).rejects.toThrow(
      /Plugin "broken" failed to set up: no db/,
    );
    const order: string[] = [];
    const runner = await PluginRunner.create(
      ["a", "b"].map((name) => definePlugin({ name, teardown: () => void order.push(name) })),
      log,
    );
    await runner.close();
    expect(order).toEqual(["b", "a"]);
  });

  it("applies fail-open to any thrown error, GatewayError included", async () => {
    const plugin = definePlugin({ name: "thrower", onError: "fail-open", hooks: { "tools/call:before": () => { throw new GatewayError("INTERNAL", "inner"); } } });
    const out = await (await PluginRunner.create([plugin], log)).run("tools/call:before", { params: { ok: 2 } }, ctx());
    expect(out.params).toEqual({ ok: 2 });
  });

  it("sets a plugin object kept across a reload up once and does not tear it down with the old set", async () => {
    const calls: string[] = [];
    const kept = definePlugin({ name: "kept", setup: () => void calls.push("setup kept"), teardown: () => void calls.push("teardown kept") });
    const dropped = definePlugin({ name: "dropped", setup: () => void calls.push("setup dropped"), teardown: () => void calls.push("teardown dropped") });
    const first = await PluginRunner.create([kept, dropped], log);
    const second = await PluginRunner.create([kept], log, first);
    await first.close(second);
    expect(calls).toEqual(["setup kept", "setup dropped", "teardown dropped"]);
    await second.close();
    expect(calls.at(-1)).toBe("teardown kept");
  });
});
