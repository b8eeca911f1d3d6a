import { UriTemplate } from "@modelcontextprotocol/server";
import { exposedName } from "./naming.ts";
import type { UpstreamSnapshot } from "./snapshot.ts";

/** An entry a client can address by name, and where it really lives. */
export interface NamedEntry {
  upstream: string;
  /** The name the upstream knows it by. */
  original: string;
  /** The upstream's object with only `name` rewritten; every other field forwarded untouched. */
  item: Record<string, unknown>;
  /** Labels from entry overrides (matched by `tag:` selectors). */
  tags?: readonly string[];
  /** Arguments a virtual server fixes: merged over the client's on every call. */
  fixed?: Readonly<Record<string, unknown>>;
}

/** A listed resource: its URI is forwarded unchanged. */
export interface ResourceEntry {
  upstream: string;
  item: Record<string, unknown>;
  tags?: readonly string[];
}

export interface TemplateEntry {
  upstream: string;
  template: UriTemplate;
  item: Record<string, unknown>;
  tags?: readonly string[];
}

/** The merged view of every connected upstream: immutable, rebuilt off the hot path. */
export interface Catalog {
  readonly tools: ReadonlyMap<string, NamedEntry>;
  readonly prompts: ReadonlyMap<string, NamedEntry>;
  /** Resource URI → upstream. URIs are forwarded unchanged. */
  readonly resources: ReadonlyMap<string, ResourceEntry>;
  readonly templates: readonly TemplateEntry[];
  /** One message per tool/prompt name that two upstreams claim; the first upstream (config order) keeps it. */
  readonly conflicts: readonly string[];
  /** Resource URIs offered by two upstreams: reads go to the first one (config order). */
  readonly shadowed: readonly string[];
}

export interface CatalogSource {
  name: string;
  prefix: string | false;
  snapshot: UpstreamSnapshot;
}

/** Merge upstream snapshots (in config order) into one catalog with namespaced names. */
export function buildCatalog(sources: readonly CatalogSource[], separator: string): Catalog {
  const tools = new Map<string, NamedEntry>();
  const prompts = new Map<string, NamedEntry>();
  const resources = new Map<string, ResourceEntry>();
  const templates: TemplateEntry[] = [];
  const conflicts: string[] = [];
  const shadowed: string[] = [];

  const addNamed = (kind: "tool" | "prompt", target: Map<string, NamedEntry>, source: CatalogSource, item: Record<string, unknown>) => {
    if (typeof item.name !== "string" || !item.name) return;
    const name = exposedName(source.prefix, separator, item.name);
    const existing = target.get(name);
    if (existing) {
      conflicts.push(
        `${kind} name "${name}" is claimed by upstream "${existing.upstream}" (${existing.original}) and upstream "${source.name}" (${item.name})`,
      );
      return;
    }
    target.set(name, { upstream: source.name, original: item.name, item: { ...item, name } });
  };

  for (const source of sources) {
    for (const tool of source.snapshot.tools) addNamed("tool", tools, source, tool);
    for (const prompt of source.snapshot.prompts) addNamed("prompt", prompts, source, prompt);
    for (const resource of source.snapshot.resources) {
      if (typeof resource.uri !== "string") continue;
      const existing = resources.get(resource.uri);
      if (existing) {
        shadowed.push(`resource "${resource.uri}" is offered by upstream "${existing.upstream}" and upstream "${source.name}"; reads go to "${existing.upstream}"`);
        continue;
      }
      resources.set(resource.uri, { upstream: source.name, item: resource });
    }
    for (const item of source.snapshot.templates) {
      if (typeof item.uriTemplate !== "string") continue;
      try {
        templates.push({ upstream: source.name, template: new UriTemplate(item.uriTemplate), item });
      } catch {
        shadowed.push(`resource template "${item.uriTemplate}" of upstream "${source.name}" is not a valid URI template`);
      }
    }
  }
  return { tools, prompts, resources, templates, conflicts, shadowed };
}

/** The upstream that serves `uri`: a listed resource first, then the first matching template. */
export function resolveResourceUpstream(catalog: Catalog, uri: string): string | undefined {
  const listed = catalog.resources.get(uri);
  if (listed) return listed.upstream;
  for (const entry of catalog.templates) {
    if (entry.template.match(uri)) return entry.upstream;
  }
  return undefined;
}
