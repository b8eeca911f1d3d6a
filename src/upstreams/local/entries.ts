import type { Liquid } from "liquidjs";
import type { ResolvedLocalUpstream } from "../../config/types.ts";
import { compilePrompt, createPromptEngine, listPrompt, type CompiledPrompt } from "./prompts.ts";
import { compileResource, listResource, listTemplate, matchDirResource, type CompiledResource } from "./resources.ts";
import { compileTool, type CompiledTool } from "./tools.ts";

/** Every local entry compiled and ready to serve; replaced as a whole on reload. */
export interface LocalEntries {
  readonly engine: Liquid;
  readonly tools: ReadonlyMap<string, CompiledTool>;
  readonly prompts: ReadonlyMap<string, CompiledPrompt>;
  /** By URI. */
  readonly resources: ReadonlyMap<string, CompiledResource>;
  /** `dir` resources, by URI template. */
  readonly templates: ReadonlyMap<string, CompiledResource>;
  /** Prompts whose template was replaced at run time (`setPromptTemplate`). */
  readonly overridden: ReadonlySet<string>;
}

/** Which lists changed between two sets of entries. */
export interface EntriesChange {
  tools: boolean;
  prompts: boolean;
  /** Resources or resource templates. */
  resources: boolean;
}

/**
 * Compile a resolved local config (already validated by `resolveLocalEntries`, so this does not throw).
 * With `previous`, a run-time template survives when the config did not change that prompt.
 */
export function compileEntries(config: ResolvedLocalUpstream, previous?: LocalEntries): LocalEntries {
  const engine = previous?.engine ?? createPromptEngine();
  const tools = new Map(Object.entries(config.tools).map(([name, tool]) => [name, compileTool(name, tool)]));
  const prompts = new Map<string, CompiledPrompt>();
  const overridden = new Set<string>();
  for (const [name, definition] of Object.entries(config.prompts)) {
    const before = previous?.prompts.get(name);
    if (before && previous?.overridden.has(name) && fingerprint(before.definition) === fingerprint(definition)) {
      prompts.set(name, compilePrompt(engine, name, definition, before.template));
      overridden.add(name);
    } else {
      prompts.set(name, compilePrompt(engine, name, definition));
    }
  }
  const resources = new Map<string, CompiledResource>();
  const templates = new Map<string, CompiledResource>();
  for (const [name, definition] of Object.entries(config.resources)) {
    const resource = compileResource(name, definition, config.allowedRoot, config.baseDir);
    (resource.dir ? templates : resources).set(resource.uri, resource);
  }
  return { engine, tools, prompts, resources, templates, overridden };
}

/** The resource a URI names: a declared one, else a file under a `dir` resource whose template matches. */
export function findResource(entries: LocalEntries, uri: string): CompiledResource | undefined {
  const exact = entries.resources.get(uri);
  if (exact) return exact;
  for (const template of entries.templates.values()) {
    const match = matchDirResource(template, uri);
    if (match) return match;
  }
  return undefined;
}

/** Whether `uri` may read differently after a reload: gone, or its definition or file changed. */
export function resourceChanged(before: LocalEntries, after: LocalEntries, uri: string): boolean {
  const find = (entries: LocalEntries) => {
    try {
      return findResource(entries, uri);
    } catch {
      return undefined;
    }
  };
  const [a, b] = [find(before), find(after)];
  return !a || !b || fingerprint(a.definition) !== fingerprint(b.definition) || a.file?.path !== b.file?.path;
}

/** Compare what clients can list. */
export function diffEntries(before: LocalEntries, after: LocalEntries): EntriesChange {
  const resources = (entries: LocalEntries) => [[...entries.resources.values()].map(listResource), [...entries.templates.values()].map(listTemplate)];
  return {
    tools: !same([...before.tools.values()].map((t) => t.listed), [...after.tools.values()].map((t) => t.listed)),
    prompts: !same([...before.prompts.values()].map(listPrompt), [...after.prompts.values()].map(listPrompt)),
    resources: !same(resources(before), resources(after)),
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** JSON with functions as their source text and bytes as base64: stable across config reloads. */
function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "function") return `fn:${item.toString()}`;
    if (item instanceof Uint8Array) return `bytes:${Buffer.from(item).toString("base64")}`;
    return item;
  });
}
