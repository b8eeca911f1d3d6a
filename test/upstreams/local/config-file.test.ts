import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GatewayConfigWatcher, watchGatewayConfig } from "../../../src/config/index.ts";
import { createGateway, type Gateway } from "../../../src/index.ts";
import { connectV1, endSession, firstText, within } from "../../_helpers.ts";

const VALIBOT = fileURLToPath(new URL("../../../node_modules/valibot/dist/index.mjs", import.meta.url));

/** A config file whose one tool answers `word`, and a prompt whose template says it too. */
const render = (word: string) => `import * as v from ${JSON.stringify(VALIBOT)};
export default {
  log: { level: "silent" },
  tools: { word: { description: "Says a word", input: v.object({}), run: () => ${JSON.stringify(word)} } },
  prompts: { word: { template: ${JSON.stringify(`The word is ${word}`)} } },
};
`;

let dir: string;
let watcher: GatewayConfigWatcher | undefined;
let gw: Gateway | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-config-file-"));
});
afterEach(async () => {
  await watcher?.unwatch();
  await gw?.close();
  watcher = undefined;
  gw = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("local entries loaded from a watched config file (gateway dev)", () => {
  it("runs the edited tool function and renders the edited template after the file changes", async () => {
    const file = join(dir, "gateway.config.mjs");
    await writeFile(file, render("one"));
    const waiters = new Set<() => void>();
    watcher = await watchGatewayConfig({
      cwd: dir,
      configFile: "gateway.config.mjs",
      onUpdate: async (next) => {
        await gw!.reload(next);
        for (const wake of waiters) wake();
      },
      onError: () => {},
    });
    gw = await createGateway(watcher.config);
    const { url } = await gw.listen({ port: 0 });
    const client = await connectV1(`${url}/mcp`);
    let done = false;
    try {
      expect(firstText(await client.callTool({ name: "word", arguments: {} }))).toBe("one");
      // The file watcher gets ready asynchronously: write the edit again until a reload has been applied.
      const reloaded = new Promise<void>((resolve) => waiters.add(resolve));
      void reloaded.then(() => (done = true));
      await within(
        (async () => {
          while (!done) {
            await writeFile(file, render("two"));
            await Promise.race([reloaded, new Promise((resolve) => setTimeout(resolve, 200))]);
          }
        })(),
        10_000,
        "the edited config to be applied",
      );
      expect(firstText(await client.callTool({ name: "word", arguments: {} }))).toBe("two");
      const prompt = await client.getPrompt({ name: "word" });
      expect((prompt.messages[0]!.content as { text: string }).text).toBe("The word is two");
    } finally {
      done = true;
      await endSession(client);
    }
  });
});
