import { existsSync, realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { type LoadConfigOptions, loadConfig, watchConfig } from "c12";
import { consola } from "consola";
import { type Jiti, createJiti } from "jiti";
import { GatewayConfigError } from "../errors.ts";
import { resolveConfig } from "./resolve.ts";
import type { ResolvedConfig } from "./types.ts";

/** Extensions loaded through jiti; c12's other formats (yaml, toml, ...) bypass our error reporting. */
const EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"];

/** Options of {@link loadGatewayConfig}. */
export interface LoadGatewayConfigOptions {
  /** Folder searched for `gateway.config.{ts,mjs,js,json,...}`. Default `process.cwd()`. */
  cwd?: string;
  /** Explicit config file, absolute or relative to `cwd`; it must exist. */
  configFile?: string;
  /** Variables for `${env.NAME}`. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** A loaded config and the file it came from (`undefined`: no file found, defaults only). */
export interface LoadedGatewayConfig {
  config: ResolvedConfig;
  file: string | undefined;
}

/** Options of {@link watchGatewayConfig}. */
export interface WatchGatewayConfigOptions extends LoadGatewayConfigOptions {
  /** Called with each valid new config. */
  onUpdate(next: ResolvedConfig, file: string | undefined): void | Promise<void>;
  /** Called when an edit breaks the config; the last good config stays current. */
  onError(error: GatewayConfigError): void;
}

/** A watched config; `config` and `file` always hold the last good load. */
export interface GatewayConfigWatcher extends LoadedGatewayConfig {
  unwatch(): Promise<void>;
}

/**
 * Finds, loads and resolves the gateway config file with c12.
 * @throws GatewayConfigError when the file is missing (explicit path), fails to load or is invalid.
 */
export async function loadGatewayConfig(opts: LoadGatewayConfigOptions = {}): Promise<LoadedGatewayConfig> {
  const source = createSource(opts, false);
  const result = await loadConfig(source.options).catch((error: unknown) => {
    throw toConfigError(error, source.requested);
  });
  return source.resolve(result);
}

/**
 * Loads the config, then reloads it on every change of the file.
 * @throws GatewayConfigError when the first load fails.
 */
export async function watchGatewayConfig(opts: WatchGatewayConfigOptions): Promise<GatewayConfigWatcher> {
  const source = createSource(opts, true);
  let current: LoadedGatewayConfig;
  const watcher = await watchConfig({
    ...source.options,
    onWatch: () => source.reset(),
    onUpdate: async ({ newConfig }) => {
      let next: LoadedGatewayConfig;
      try {
        if (current.file && !newConfig._configFile) throw fileIssue("config file was removed", current.file);
        next = source.resolve(newConfig);
      } catch (error) {
        opts.onError(toConfigError(error, current.file));
        return;
      }
      current = next;
      try {
        await opts.onUpdate(next.config, next.file);
      } catch (error) {
        consola.error("[gateway] config onUpdate handler failed:", error);
      }
    },
  }).catch((error: unknown) => {
    throw toConfigError(error, source.requested);
  });
  try {
    current = source.resolve(watcher);
  } catch (error) {
    await watcher.unwatch();
    throw error;
  }
  return {
    get config() {
      return current.config;
    },
    get file() {
      return current.file;
    },
    unwatch: () => watcher.unwatch(),
  };
}

interface ConfigSource {
  options: LoadConfigOptions;
  /** The explicit `configFile`, absolute. */
  requested: string | undefined;
  /** Forgets a load failure left over from an interrupted reload. */
  reset(): void;
  /** Turns one c12 result into a resolved config, or throws what went wrong while loading. */
  resolve(result: { config: unknown; _configFile?: string }): LoadedGatewayConfig;
}

function createSource(opts: LoadGatewayConfigOptions, watch: boolean): ConfigSource {
  const cwd = resolve(opts.cwd ?? ".");
  const requested = opts.configFile === undefined ? undefined : resolve(cwd, opts.configFile);
  if (requested) {
    if (!EXTENSIONS.includes(extname(requested))) {
      throw fileIssue(`unsupported config file type (use ${EXTENSIONS.join(", ")})`, requested);
    }
    if (!existsSync(requested)) throw fileIssue("config file not found", requested);
  }

  // c12 swallows reload errors (console.warn), so the loader records them for `resolve` to throw.
  let failure: { error: unknown; file: string } | undefined;
  const jiti = createJiti(requested ?? join(cwd, "gateway.config"), { interopDefault: true, moduleCache: false });
  jiti.import = (async (file: string) => {
    try {
      return guard(await importFresh(jiti, file), (error) => (failure = { error, file }));
    } catch (error) {
      failure = { error, file };
      return {};
    }
  }) as Jiti["import"];

  const options: LoadConfigOptions = {
    name: "gateway",
    // c12 watches `<cwd>/<configFile><ext>` only, so a watched file is given as folder + bare name.
    cwd: requested && watch ? dirname(requested) : cwd,
    configFile: requested && watch ? basename(requested, extname(requested)) : requested,
    rcFile: false,
    globalRc: false,
    dotenv: false,
    packageJson: false,
    // No `$production` blocks and no `extends` (which could fetch remote layers): what is in the file is the config.
    envName: false,
    extend: false,
    jiti,
  };

  return {
    options,
    requested,
    reset: () => (failure = undefined),
    resolve(result) {
      const loadFailure = failure;
      failure = undefined;
      if (loadFailure) throw toConfigError(loadFailure.error, loadFailure.file);
      const file = result._configFile;
      if (requested && (!file || !samePath(file, requested))) {
        const message = file ? `${basename(file)} has the same name and is loaded instead; rename one` : "config file not found";
        throw fileIssue(message, requested);
      }
      if (file && !EXTENSIONS.includes(extname(file))) {
        throw fileIssue(`unsupported config file type (use ${EXTENSIONS.join(", ")})`, file);
      }
      return { config: resolveConfig(result.config, { file, env: opts.env }), file };
    },
  };
}

/**
 * Imports a config file, bypassing every cache: jiti hands `.mjs`, ESM `.js` and `.json`
 * to Node's loader, whose cache would serve the old file on every reload.
 */
async function importFresh(jiti: Jiti, file: string): Promise<unknown> {
  const source = await readFile(file, "utf8");
  if (extname(file) === ".json") return JSON.parse(source);
  const mod = await jiti.evalModule(source, { filename: file, async: true, forceTranspile: true });
  // Transpiled ESM marks its exports with `__esModule`; CommonJS exports the config itself.
  // `hasOwn`, because jiti's interop makes `.default` fall back to the named exports.
  if (isObject(mod) && mod.__esModule) return Object.hasOwn(mod, "default") ? mod.default : undefined;
  return mod;
}

/** Passes on an object; wraps a config function so its errors are recorded too. */
function guard(config: unknown, onError: (error: unknown) => void): unknown {
  if (typeof config === "function") {
    return async (...args: unknown[]) => {
      try {
        return guard(await config(...args), onError);
      } catch (error) {
        onError(error);
        return {};
      }
    };
  }
  if (!isObject(config)) {
    throw new Error("the config file must `export default` an object, e.g. `export default defineGateway({ ... })`");
  }
  return config;
}

function toConfigError(error: unknown, file: string | undefined): GatewayConfigError {
  if (error instanceof GatewayConfigError) return error;
  const text = error instanceof Error ? error.message : String(error);
  // One line, no "Require stack" listing: the file is named by the error already.
  const message = text
    .split(/\n\s*Require stack:/)[0]!
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .join(" ");
  return fileIssue(message, file);
}

function fileIssue(message: string, file: string | undefined): GatewayConfigError {
  return new GatewayConfigError([{ path: "", message }], file);
}

function samePath(a: string, b: string): boolean {
  return a === b || (existsSync(a) && existsSync(b) && realpathSync(a) === realpathSync(b));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object";
}
