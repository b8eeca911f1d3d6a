import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GatewayConfigWatcher, type ResolvedConfig, watchGatewayConfig } from "../../src/config/index.ts";
import type { GatewayConfigError } from "../../src/errors.ts";

const DEFINE = fileURLToPath(new URL("../../src/config/define.ts", import.meta.url));
const TIMEOUT_MS = 10_000;

type WatchEvent =
  | { kind: "update"; config: ResolvedConfig; file: string | undefined }
  | { kind: "error"; error: GatewayConfigError };

/** Records watcher callbacks and lets a test wait for one, with a bounded timeout. */
function createRecorder() {
  const events: WatchEvent[] = [];
  const listeners = new Set<() => void>();
  const push = (event: WatchEvent) => {
    events.push(event);
    for (const listener of listeners) listener();
  };
  /** Resolves with the first event at index >= `from` that matches. */
  const waitFor = (from: number, match: (event: WatchEvent) => boolean, what: string) =>
    new Promise<WatchEvent>((resolve, reject) => {
      const check = () => {
        const found = events.slice(from).find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${TIMEOUT_MS}ms waiting for ${what}; saw ${JSON.stringify(events.map(describeEvent))}`));
      }, TIMEOUT_MS);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { events, push, waitFor };
}

function describeEvent(event: WatchEvent): string {
  return event.kind === "update" ? `update port=${event.config.server.port}` : `error ${event.error.message}`;
}

const isPort = (port: number) => (e: WatchEvent) => e.kind === "update" && e.config.server.port === port;
const isError = (text: string) => (e: WatchEvent) => e.kind === "error" && e.error.message.includes(text);

const formats = {
  ts: (port: number) => `import { defineGateway } from ${JSON.stringify(DEFINE)};\nexport default defineGateway({ server: { port: ${port} } });\n`,
  mjs: (port: number) => `export default { server: { port: ${port} } };\n`,
  json: (port: number) => JSON.stringify({ server: { port } }),
};

let dir: string;
let watcher: GatewayConfigWatcher | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gateway-watch-"));
});
afterEach(async () => {
  await watcher?.unwatch();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function startWatching(name: string, content: string, explicit: boolean) {
  const file = join(dir, name);
  await writeFile(file, content);
  const recorder = createRecorder();
  watcher = await watchGatewayConfig({
    cwd: dir,
    ...(explicit ? { configFile: name } : {}),
    onUpdate: (config, loaded) => recorder.push({ kind: "update", config, file: loaded }),
    onError: (error) => recorder.push({ kind: "error", error }),
  });
  // The file watcher gets ready asynchronously: rewrite the unchanged file until a reload shows it is live.
  const live = recorder.waitFor(0, isPort(5000), "the watcher to become live");
  let settled = false;
  void live.finally(() => (settled = true)).catch(() => {});
  while (!settled) {
    await writeFile(file, content);
    await Promise.race([live.catch(() => {}), new Promise((r) => setTimeout(r, 200))]);
  }
  await live;
  return { file, recorder };
}

describe("watchGatewayConfig", () => {
  it.each([
    ["gateway.config.ts", "ts", false, "Unexpected token"],
    ["custom.mjs", "mjs", true, "Unexpected token"],
    ["custom.json", "json", true, "JSON"],
  ] as const)("reloads %s on edits, reports a broken edit and keeps the last good config", async (name, format, explicit, syntaxHint) => {
    const render = formats[format];
    const { file, recorder } = await startWatching(name, render(5000), explicit);
    expect(watcher!.file).toBe(file);

    let from = recorder.events.length;
    await writeFile(file, render(5001));
    const update = await recorder.waitFor(from, isPort(5001), "the first edit");
    expect(update).toMatchObject({ kind: "update", file });

    from = recorder.events.length;
    await writeFile(file, render(5002).replace("5002", "5002,,"));
    const broken = await recorder.waitFor(from, isError(syntaxHint), "the broken edit to be reported");
    expect(broken.kind === "error" && broken.error.file).toBe(file);
    expect(watcher!.config.server.port).toBe(5001);

    from = recorder.events.length;
    await writeFile(file, render(5003));
    await recorder.waitFor(from, isPort(5003), "the fixed edit");
    expect(watcher!.config.server.port).toBe(5003);
  });

  it("reports an edit that fails validation and keeps the last good config", async () => {
    const { file, recorder } = await startWatching("gateway.config.ts", formats.ts(5000), false);
    const from = recorder.events.length;
    await writeFile(file, `export default { server: { port: 70000 } };\n`);
    const event = await recorder.waitFor(from, isError("server.port"), "the invalid edit to be reported");
    expect(event.kind === "error" && event.error.issues).toEqual([
      { path: "server.port", message: "expected an integer port from 0 to 65535" },
    ]);
    expect(watcher!.config.server.port).toBe(5000);
  });

  it("refuses to watch an explicit file that a same-named sibling would shadow", async () => {
    await writeFile(join(dir, "custom.mjs"), formats.mjs(5000));
    await writeFile(join(dir, "custom.ts"), formats.ts(5000));
    const error = await watchGatewayConfig({ cwd: dir, configFile: "custom.mjs", onUpdate: () => {}, onError: () => {} }).then(
      () => undefined,
      (error: unknown) => error as GatewayConfigError,
    );
    expect(error?.message).toBe(
      `Invalid gateway config in ${join(dir, "custom.mjs")}:\n  (root): custom.ts has the same name and is loaded instead; rename one`,
    );
  });

  it("reports a removed config file instead of falling back to the defaults", async () => {
    const { file, recorder } = await startWatching("gateway.config.ts", formats.ts(5000), false);
    const from = recorder.events.length;
    await unlink(file);
    await recorder.waitFor(from, isError("config file was removed"), "the removal to be reported");
    expect(recorder.events.slice(from).some((e) => e.kind === "update")).toBe(false);
    expect(watcher!.config.server.port).toBe(5000);
  });
});
