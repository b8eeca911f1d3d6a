import { globToRegExp } from "../_utils/glob.ts";
import type { Catalog, NamedEntry, ResourceEntry, TemplateEntry } from "./catalog.ts";
import type { EntryOverride, EntryOverrides, EntrySelector, NamedEntryOverride, ServerSpec } from "./server-spec.ts";

type Item = Record<string, unknown>;
type Override = Omit<EntryOverride, "rename" | "fixed"> & Pick<EntryOverride, "rename" | "fixed">;

/**
 * The catalog with the global `entries` overrides applied: disabled entries removed, descriptions,
 * annotations and tags set. Entries without an override are kept as the very same objects.
 */
export function applyEntryOverrides(catalog: Catalog, overrides: EntryOverrides): Catalog {
  const { tools = {}, prompts = {}, resources = {} } = overrides;
  if (!Object.keys(tools).length && !Object.keys(prompts).length && !Object.keys(resources).length) return catalog;
  return {
    tools: overrideMap(catalog.tools, (name) => tools[name]),
    prompts: overrideMap(catalog.prompts, (name) => prompts[name]),
    resources: overrideMap(catalog.resources, (uri) => resources[uri]),
    templates: overrideTemplates(catalog.templates, (t) => resources[t]),
    conflicts: catalog.conflicts,
    shadowed: catalog.shadowed,
  };
}

/**
 * The entries of `base` a virtual server selects, with its per-entry overrides. An entry named exactly by an
 * object selector takes that selector's overrides; otherwise the first string selector (name, glob or
 * `tag:<label>`) that matches admits it. A rename onto a name already in the view is a conflict: the first keeps it.
 */
export function buildServerView(base: Catalog, spec: ServerSpec): Catalog {
  const conflicts: string[] = [];
  const pick = (selectors: EntrySelector[] | undefined) => compileSelectors(selectors);

  const named = (kind: "tool" | "prompt", source: ReadonlyMap<string, NamedEntry>, selectors: EntrySelector[] | undefined) => {
    const match = pick(selectors);
    const out = new Map<string, NamedEntry>();
    for (const [name, entry] of source) {
      const override = match(name, entry.tags);
      if (override === undefined || override.enabled === false) continue;
      const next = applyOverride(kind, entry, override);
      const exposed = next.item.name as string;
      const existing = out.get(exposed);
      if (existing) {
        conflicts.push(`${kind} name "${exposed}" is claimed by "${existing.original}" (upstream "${existing.upstream}") and "${entry.original}" (upstream "${entry.upstream}")`);
        continue;
      }
      out.set(exposed, next);
    }
    return out;
  };

  const matchResource = pick(spec.resources);
  const resources = new Map<string, ResourceEntry>();
  for (const [uri, entry] of base.resources) {
    const override = matchResource(uri, entry.tags);
    if (override === undefined || override.enabled === false) continue;
    resources.set(uri, { ...entry, item: describe(entry.item, override), tags: mergeTags(entry.tags, override.tags) });
  }
  const templates: TemplateEntry[] = [];
  for (const entry of base.templates) {
    const override = matchResource(String(entry.item.uriTemplate), entry.tags);
    if (override === undefined || override.enabled === false) continue;
    templates.push({ ...entry, item: describe(entry.item, override), tags: mergeTags(entry.tags, override.tags) });
  }

  return {
    tools: named("tool", base.tools, spec.tools),
    prompts: named("prompt", base.prompts, spec.prompts),
    resources,
    templates,
    conflicts,
    shadowed: [],
  };
}

/** Returns the override an entry gets (`{}` when a plain selector admits it), or `undefined` when no selector does. */
function compileSelectors(selectors: EntrySelector[] | undefined): (name: string, tags: readonly string[] | undefined) => Override | undefined {
  const exact = new Map<string, Override>();
  const patterns: { test: (name: string, tags: readonly string[] | undefined) => boolean; override: Override }[] = [];
  for (const selector of selectors ?? []) {
    const text = typeof selector === "string" ? selector : selector.name;
    const override: Override = typeof selector === "string" ? {} : withoutName(selector);
    if (text.startsWith("tag:")) {
      const tag = text.slice(4);
      patterns.push({ test: (_name, tags) => tags?.includes(tag) ?? false, override });
    } else if (/[*?]/.test(text)) {
      const re = globToRegExp(text);
      patterns.push({ test: (name) => re.test(name), override });
    } else if (!exact.has(text)) {
      exact.set(text, override);
    }
  }
  return (name, tags) => exact.get(name) ?? patterns.find((p) => p.test(name, tags))?.override;
}

function withoutName(selector: NamedEntryOverride): Override {
  const { name: _name, ...override } = selector;
  return override;
}

function applyOverride(kind: "tool" | "prompt", entry: NamedEntry, override: Override): NamedEntry {
  if (Object.keys(override).length === 0) return entry;
  let item = describe(entry.item, override);
  if (override.rename) item = { ...item, name: override.rename };
  const fixed = override.fixed && Object.keys(override.fixed).length > 0 ? { ...entry.fixed, ...override.fixed } : entry.fixed;
  if (override.fixed) item = kind === "tool" ? hideToolArguments(item, Object.keys(override.fixed)) : hidePromptArguments(item, Object.keys(override.fixed));
  return { ...entry, item, tags: mergeTags(entry.tags, override.tags), ...(fixed ? { fixed } : {}) };
}

/** Description and annotations from an override; every other field of the item untouched. */
function describe(item: Item, override: Override): Item {
  if (override.description === undefined && override.annotations === undefined) return item;
  const next: Item = { ...item };
  if (override.description !== undefined) next.description = override.description;
  if (override.annotations !== undefined) next.annotations = { ...(item.annotations as Item | undefined), ...override.annotations };
  return next;
}

function hideToolArguments(item: Item, hidden: string[]): Item {
  const schema = item.inputSchema as Item | undefined;
  if (!schema || typeof schema !== "object") return item;
  const properties = { ...(schema.properties as Item | undefined) };
  for (const key of hidden) delete properties[key];
  const required = Array.isArray(schema.required) ? schema.required.filter((k) => !hidden.includes(String(k))) : undefined;
  return { ...item, inputSchema: { ...schema, properties, ...(required ? { required } : {}) } };
}

function hidePromptArguments(item: Item, hidden: string[]): Item {
  if (!Array.isArray(item.arguments)) return item;
  return { ...item, arguments: item.arguments.filter((arg) => !hidden.includes(String((arg as Item).name))) };
}

function mergeTags(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (!b?.length) return a;
  if (!a?.length) return b;
  return [...new Set([...a, ...b])];
}

/** Applies `find`'s override to each entry: disabled ones dropped, untouched ones kept as the same objects. */
function overrideEach<E extends { item: Item; tags?: readonly string[] }>(entry: E, override: Override | undefined): E | undefined {
  if (!override) return entry;
  if (override.enabled === false) return undefined;
  return { ...entry, item: describe(entry.item, override), tags: mergeTags(entry.tags, override.tags) };
}

function overrideMap<E extends { item: Item; tags?: readonly string[] }>(source: ReadonlyMap<string, E>, find: (key: string) => Override | undefined): Map<string, E> {
  const out = new Map<string, E>();
  for (const [key, entry] of source) {
    const next = overrideEach(entry, find(key));
    if (next) out.set(key, next);
  }
  return out;
}

function overrideTemplates(source: readonly TemplateEntry[], find: (uriTemplate: string) => Override | undefined): TemplateEntry[] {
  return source.flatMap((entry) => overrideEach(entry, find(String(entry.item.uriTemplate))) ?? []);
}
