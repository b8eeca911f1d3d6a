import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import { findMasked, maskSecrets } from "../_utils/mask.ts";
import { InputError, parseInput } from "./problem.ts";
import { sealSecrets } from "./sealed.ts";
import type { AdminRoute } from "./route.ts";
import { STORED_CONFIG, type AdminDeps } from "./types.ts";

const NAME_RE = /^[a-zA-Z0-9_-]{1,32}$/;
const CreateSchema = v.strictObject(
  {
    name: v.pipe(v.string('expected 1-32 letters, digits, "_" or "-"'), v.regex(NAME_RE, 'expected 1-32 letters, digits, "_" or "-"')),
    config: v.record(v.string(), v.unknown(), "expected an upstream config object"),
    enabled: v.optional(v.boolean("expected true or false")),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: name, config, enabled)" : "expected an object"),
);
const ConfigSchema = v.record(v.string(), v.unknown(), "expected an upstream config object");

/** One upstream as the API shows it: secrets masked, live status attached. */
function describeUpstream(deps: AdminDeps, name: string) {
  const resolved = deps.config().upstreams.find((u) => u.name === name);
  if (!resolved) throw new GatewayError("NOT_FOUND", `Upstream "${name}" not found`, { status: 404, data: { name } });
  const status = deps.upstreamStatus(name);
  const catalog = deps.catalog();
  const count = (map: ReadonlyMap<string, { upstream: string }>) => [...map.values()].filter((e) => e.upstream === name).length;
  const { name: _name, ...config } = resolved;
  return {
    name,
    source: deps.declared().upstreams.has(name) ? "config" : "api",
    type: resolved.type,
    enabled: resolved.enabled,
    status: status ? { ...status, since: new Date(status.since).toISOString() } : { state: "closed" },
    tools: count(catalog.tools),
    prompts: count(catalog.prompts),
    resources: count(catalog.resources),
    config: maskSecrets(config, STORED_CONFIG),
  };
}

function runtimeOnly(deps: AdminDeps, name: string): void {
  if (deps.declared().upstreams.has(name)) {
    throw new GatewayError("CONFLICT", `Upstream "${name}" is declared in the config file; change it there`, { status: 409, data: { name } });
  }
}

/** Stored configs must hold real values: a `****` placeholder (from an export) would become a literal secret. */
function refuseMasked(config: unknown): void {
  const path = findMasked(config);
  if (path !== undefined) throw new InputError([{ field: `config.${path}`, message: "holds a masked secret (****); supply the real value" }]);
}

/** `/admin/upstreams`: list every upstream with status; add, replace, remove and toggle run-time upstreams. */
export function upstreamRoutes(deps: AdminDeps): AdminRoute[] {
  const apply = async (name: string) => {
    await deps.apply();
    return describeUpstream(deps, name);
  };
  return [
    {
      method: "GET",
      path: "/upstreams",
      tag: "upstreams",
      summary: "List upstreams (config-declared and run-time) with status and entry counts; secrets masked",
      run: async () => ({ upstreams: deps.config().upstreams.map((u) => describeUpstream(deps, u.name)) }),
    },
    {
      method: "POST",
      path: "/upstreams",
      tag: "upstreams",
      status: 201,
      summary: "Add an upstream (streamable-http, sse, websocket, a2a, rest or local; stdio only in the config file). Outbound URLs pass the SSRF guard",
      body: { name: "string", config: "object", enabled: "boolean" },
      run: async ({ body }) => {
        const { name, config, enabled } = parseInput(CreateSchema, await body());
        if (deps.config().upstreams.some((u) => u.name === name)) {
          throw new GatewayError("CONFLICT", `An upstream named "${name}" already exists`, { status: 409, data: { name } });
        }
        refuseMasked(config);
        await deps.checkUpstream(name, config);
        await deps.store.upstreams.create(name, sealSecrets(config, deps.secretBox), enabled ?? true);
        return apply(name);
      },
    },
    {
      method: "GET",
      path: "/upstreams/:name",
      tag: "upstreams",
      summary: "One upstream with status; secrets masked",
      run: async ({ params }) => describeUpstream(deps, params.name!),
    },
    {
      method: "PUT",
      path: "/upstreams/:name",
      tag: "upstreams",
      summary: "Replace a run-time upstream's config (reconnects it)",
      body: { config: "object" },
      run: async ({ params, body }) => {
        runtimeOnly(deps, params.name!);
        describeUpstream(deps, params.name!);
        const config = parseInput(ConfigSchema, await body(), "config");
        refuseMasked(config);
        await deps.checkUpstream(params.name!, config);
        await deps.store.upstreams.update(params.name!, sealSecrets(config, deps.secretBox));
        return apply(params.name!);
      },
    },
    {
      method: "DELETE",
      path: "/upstreams/:name",
      tag: "upstreams",
      status: 204,
      summary: "Remove a run-time upstream (in-flight calls drain first)",
      run: async ({ params }) => {
        runtimeOnly(deps, params.name!);
        if (!(await deps.store.upstreams.delete(params.name!))) throw new GatewayError("NOT_FOUND", `Upstream "${params.name}" not found`, { status: 404 });
        await deps.apply();
        return undefined;
      },
    },
    ...(["enable", "disable"] as const).map(
      (action): AdminRoute => ({
        method: "POST",
        path: `/upstreams/:name/${action}`,
        tag: "upstreams",
        summary: `${action === "enable" ? "Enable" : "Disable"} a run-time upstream`,
        run: async ({ params }) => {
          runtimeOnly(deps, params.name!);
          await deps.store.upstreams.setEnabled(params.name!, action === "enable");
          return apply(params.name!);
        },
      }),
    ),
  ];
}
