import { createJiti } from "jiti";
import { GatewayError } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import type { GatewayPlugin } from "./types.ts";

/**
 * Turn config entries into plugin objects: objects pass through; a string is an npm package (resolved from
 * `cwd`, TypeScript allowed) whose default export is a plugin or a zero-argument factory returning one.
 */
export async function loadPlugins(entries: readonly (GatewayPlugin | string)[], cwd = process.cwd()): Promise<GatewayPlugin[]> {
  const jiti = createJiti(`${cwd}/`, { moduleCache: false });
  const plugins: GatewayPlugin[] = [];
  for (const [index, entry] of entries.entries()) {
    if (typeof entry !== "string") {
      plugins.push(entry);
      continue;
    }
    let loaded: unknown;
    try {
      const mod = (await jiti.import(entry)) as { default?: unknown };
      loaded = mod.default ?? mod;
      if (typeof loaded === "function") loaded = await (loaded as () => unknown)();
    } catch (error) {
      throw new GatewayError("CONFIG_INVALID", `plugins.${index}: cannot load plugin package "${entry}": ${describeError(error)}`);
    }
    if (!loaded || typeof loaded !== "object" || typeof (loaded as GatewayPlugin).name !== "string") {
      throw new GatewayError("CONFIG_INVALID", `plugins.${index}: package "${entry}" does not export a plugin (an object with a name)`);
    }
    plugins.push(loaded as GatewayPlugin);
  }
  return plugins;
}
