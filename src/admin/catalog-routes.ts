import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import type { EntryKind } from "../storage/repository.ts";
import { parseInput } from "./problem.ts";
import type { AdminRoute } from "./route.ts";
import type { AdminDeps } from "./types.ts";

type Item = Record<string, unknown>;
type Plural = "tools" | "prompts" | "resources";
const KINDS: Record<Plural, EntryKind> = { tools: "tool", prompts: "prompt", resources: "resource" };

/** One catalog entry as the admin API shows it. */
export interface AdminEntry {
  kind: EntryKind;
  /** Exposed name (resources and templates: the URI or URI template). */
  name: string;
  upstream: string;
  /** Name at the upstream (tools and prompts). */
  original?: string;
  enabled: boolean;
  tags: string[];
  description?: string;
  /** Virtual servers that include it. */
  servers: string[];
  item: Item;
}

const PatchSchema = v.strictObject(
  {
    description: v.optional(v.nullable(v.string("expected a string or null"))),
    annotations: v.optional(v.nullable(v.record(v.string(), v.unknown(), "expected an object or null"))),
    tags: v.optional(v.array(v.pipe(v.string("expected a string"), v.nonEmpty("expected a non-empty tag")), "expected an array of strings")),
    enabled: v.optional(v.boolean("expected true or false")),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: description, annotations, tags, enabled)" : "expected an object"),
);

/** Every entry of one kind, overrides and server membership resolved (disabled entries included). */
export function listEntries(deps: AdminDeps, plural: Plural): AdminEntry[] {
  const catalog = deps.catalog();
  const overrides = deps.overrides()[plural] ?? {};
  const kind = KINDS[plural];
  const servers = deps.views.specs().map((s) => ({ name: s.name, view: deps.views.server(s.name) }));
  /** A server's view keeps each entry's upstream and original name, whatever it renames: that identifies it. */
  const memberOf = (name: string, upstream: string, original: string | undefined) =>
    servers
      .filter(({ view }) => {
        if (!view) return false;
        if (kind === "resource") return view.resources.has(name) || view.templates.some((t) => t.item.uriTemplate === name);
        return [...(kind === "tool" ? view.tools : view.prompts).values()].some((e) => e.upstream === upstream && e.original === original);
      })
      .map((s) => s.name);
  const describe = (name: string, upstream: string, item: Item, original?: string): AdminEntry => {
    const override = overrides[name] ?? {};
    const description = override.description ?? (typeof item.description === "string" ? item.description : undefined);
    return {
      kind,
      name,
      upstream,
      ...(original ? { original } : {}),
      enabled: override.enabled !== false,
      tags: [...(override.tags ?? [])],
      ...(description === undefined ? {} : { description }),
      servers: memberOf(name, upstream, original),
      item: override.description === undefined ? item : { ...item, description: override.description },
    };
  };
  if (kind === "resource") {
    return [
      ...[...catalog.resources].map(([uri, e]) => describe(uri, e.upstream, e.item)),
      ...catalog.templates.map((e) => describe(String(e.item.uriTemplate), e.upstream, e.item)),
    ];
  }
  return [...(kind === "tool" ? catalog.tools : catalog.prompts)].map(([name, e]) => describe(name, e.upstream, e.item, e.original));
}

function filterEntries(entries: AdminEntry[], query: URLSearchParams): AdminEntry[] {
  const q = query.get("q")?.toLowerCase();
  const tag = query.get("tag");
  const upstream = query.get("upstream");
  const enabled = query.get("enabled");
  const server = query.get("server");
  return entries.filter(
    (e) =>
      (!q || e.name.toLowerCase().includes(q) || (e.description ?? "").toLowerCase().includes(q)) &&
      (!tag || e.tags.includes(tag)) &&
      (!upstream || e.upstream === upstream) &&
      (enabled === null || String(e.enabled) === enabled) &&
      (!server || e.servers.includes(server)),
  );
}

function findEntry(deps: AdminDeps, plural: Plural, name: string): AdminEntry {
  const entry = listEntries(deps, plural).find((e) => e.name === name);
  if (!entry) throw new GatewayError("NOT_FOUND", `No ${KINDS[plural]} named "${name}" in the catalog`, { status: 404, data: { name } });
  return entry;
}

/** `/admin/catalog`, `/admin/{tools|prompts|resources}[/:name]`: search, detail with metrics, overrides. */
export function catalogRoutes(deps: AdminDeps): AdminRoute[] {
  const routes: AdminRoute[] = [
    {
      method: "GET",
      path: "/catalog",
      tag: "catalog",
      summary: "Search every entry by name/description (q), tag, upstream, server or enabled",
      query: ["q", "tag", "upstream", "server", "enabled", "kind"],
      run: async ({ query }) => {
        const kinds = (["tools", "prompts", "resources"] as const).filter((k) => !query.get("kind") || KINDS[k] === query.get("kind"));
        return { entries: kinds.flatMap((k) => filterEntries(listEntries(deps, k), query)) };
      },
    },
  ];
  for (const plural of ["tools", "prompts", "resources"] as const) {
    const kind = KINDS[plural];
    const write = async (name: string, patch: v.InferOutput<typeof PatchSchema>) => {
      findEntry(deps, plural, name);
      await deps.store.entries.upsert(kind, name, patch);
      await deps.apply();
      return findEntry(deps, plural, name);
    };
    routes.push(
      {
        method: "GET",
        path: `/${plural}`,
        tag: "catalog",
        summary: `List ${plural} (filters: q, tag, upstream, server, enabled)`,
        query: ["q", "tag", "upstream", "server", "enabled"],
        run: async ({ query }) => ({ [plural]: filterEntries(listEntries(deps, plural), query) }),
      },
      {
        method: "GET",
        path: `/${plural}/:name`,
        tag: "catalog",
        summary: `One ${kind} with its call metrics${kind === "resource" ? " (URI percent-encoded)" : ""}`,
        run: async ({ params }) => {
          const entry = findEntry(deps, plural, params.name!);
          await deps.metrics.flush();
          return { ...entry, metrics: await deps.store.metrics.get(kind, entry.name) };
        },
      },
      {
        method: "PATCH",
        path: `/${plural}/:name`,
        tag: "catalog",
        summary: `Override a ${kind}'s description, annotations, tags or enabled flag (null clears a field)`,
        body: { description: "string|null", annotations: "object|null", tags: "string[]", enabled: "boolean" },
        run: async ({ params, body }) => write(params.name!, parseInput(PatchSchema, await body())),
      },
      {
        method: "POST",
        path: `/${plural}/:name/enable`,
        tag: "catalog",
        summary: `Enable a ${kind}`,
        run: async ({ params }) => write(params.name!, { enabled: true }),
      },
      {
        method: "POST",
        path: `/${plural}/:name/disable`,
        tag: "catalog",
        summary: `Disable a ${kind} (hidden everywhere, calls refused)`,
        run: async ({ params }) => write(params.name!, { enabled: false }),
      },
    );
  }
  return routes;
}
