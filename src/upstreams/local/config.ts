import { resolve } from "node:path";
import * as v from "valibot";
import type { ConfigIssue } from "../../errors.ts";
import type { ResolvedLocalUpstream } from "../../config/types.ts";
import type { LocalPrompt, LocalResource, LocalTool } from "./define.ts";
import { compilePrompt, createPromptEngine } from "./prompts.ts";
import { compileResource } from "./resources.ts";
import { LocalEntriesSchema } from "./schema.ts";
import { compileTool } from "./tools.ts";

/** The name of the in-process upstream that serves local entries (reserved in `upstreams`). */
export const LOCAL_UPSTREAM = "local";

/** The top-level config keys that belong to local entries (validated here, outside the gateway schema). */
export const LOCAL_CONFIG_KEYS = ["tools", "prompts", "resources", "local"] as const;

/**
 * Validate `tools`, `prompts`, `resources` and `local`, compile every entry once (schemas to JSON Schema,
 * templates parsed, file paths checked) and build the resolved `"local"` upstream. No entries: no upstream.
 */
export function resolveLocalEntries(
  input: Partial<Record<(typeof LOCAL_CONFIG_KEYS)[number], unknown>>,
  defaults: { timeout: number; baseDir?: string; upstreamNames?: readonly string[] },
): { upstream?: ResolvedLocalUpstream; issues: ConfigIssue[] } {
  const result = v.safeParse(LocalEntriesSchema, input);
  if (!result.success) {
    return { issues: result.issues.map((issue) => ({ path: v.getDotPath(issue) ?? "", message: issue.message })) };
  }
  const { tools = {}, prompts = {}, resources = {}, local = {} } = result.output;
  if (Object.keys(tools).length + Object.keys(prompts).length + Object.keys(resources).length === 0) return { issues: [] };
  if (defaults.upstreamNames?.includes(LOCAL_UPSTREAM)) {
    const message = `the upstream name "${LOCAL_UPSTREAM}" is reserved for the tools, prompts and resources declared in this config; rename this upstream`;
    return { issues: [{ path: `upstreams.${LOCAL_UPSTREAM}`, message }] };
  }
  const baseDir = defaults.baseDir ?? process.cwd();
  const allowedRoot = local.allowedRoot === undefined ? undefined : resolve(baseDir, local.allowedRoot);
  const issues: ConfigIssue[] = [];
  const check = (path: string, compile: () => void) => {
    try {
      compile();
    } catch (error) {
      issues.push({ path, message: (error as Error).message });
    }
  };
  // The original objects, not valibot's copies: tools keep their schema objects and functions as written.
  const raw = input as { tools?: Record<string, LocalTool>; prompts?: Record<string, LocalPrompt>; resources?: Record<string, LocalResource> };
  for (const [name, tool] of Object.entries(raw.tools ?? {})) check(`tools.${name}`, () => compileTool(name, tool));
  const engine = createPromptEngine();
  for (const [name, prompt] of Object.entries(raw.prompts ?? {})) check(`prompts.${name}.template`, () => compilePrompt(engine, name, prompt));
  const uris = new Map<string, string>();
  for (const [name, resource] of Object.entries(raw.resources ?? {})) {
    check(`resources.${name}`, () => {
      const { uri } = compileResource(name, resource, allowedRoot, baseDir);
      const owner = uris.get(uri);
      if (owner !== undefined) throw new Error(`resources "${owner}" and "${name}" both use the URI ${uri}`);
      uris.set(uri, name);
    });
  }
  if (issues.length > 0) return { issues };
  const upstream: ResolvedLocalUpstream = {
    type: "local",
    name: LOCAL_UPSTREAM,
    enabled: local.enabled ?? true,
    prefix: local.prefix ?? false,
    timeout: local.timeout ?? defaults.timeout,
    isolation: "shared",
    protocol: "auto",
    restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: 0 },
    tools: Object.freeze({ ...raw.tools }),
    prompts: Object.freeze({ ...raw.prompts }),
    resources: Object.freeze({ ...raw.resources }),
    ...(allowedRoot === undefined ? {} : { allowedRoot }),
    baseDir,
  };
  return { upstream: Object.freeze(upstream), issues: [] };
}
