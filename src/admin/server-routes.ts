import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import { ServerNameSchema, ServerSpecSchema, type NamedServerSpec, type ServerSpec } from "../registry/server-spec.ts";
import { checkServerAuth } from "../config/resolve.ts";
import { InputError, parseInput } from "./problem.ts";
import { Reply, type AdminRoute } from "./route.ts";
import type { AdminDeps } from "./types.ts";

const CreateSchema = v.strictObject(
  { name: ServerNameSchema, ...ServerSpecSchema.entries },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: name, description, enabled, auth, tools, prompts, resources)" : "expected an object"),
);

/** A virtual server as the API shows it: its spec and what it currently exposes. */
function describeServer(deps: AdminDeps, spec: NamedServerSpec) {
  const view = deps.views.server(spec.name);
  const { name, source, enabled, ...rest } = spec;
  return {
    name,
    source,
    enabled: enabled !== false,
    spec: rest,
    endpoints: { mcp: `/servers/${name}/mcp`, sse: `/servers/${name}/sse`, ws: `/servers/${name}/ws` },
    exposes: view
      ? {
          tools: [...view.tools.keys()],
          prompts: [...view.prompts.keys()],
          resources: [...view.resources.keys()],
          resourceTemplates: view.templates.map((t) => String(t.item.uriTemplate)),
        }
      : undefined,
    ...(view?.conflicts.length ? { conflicts: view.conflicts } : {}),
  };
}

function findServer(deps: AdminDeps, name: string): NamedServerSpec {
  const spec = deps.views.spec(name);
  if (!spec) throw new GatewayError("NOT_FOUND", `Virtual server "${name}" not found`, { status: 404, data: { name } });
  return spec;
}

/** Config-declared servers are read-only here: the file is their source of truth. */
function runtimeOnly(deps: AdminDeps, name: string): void {
  if (deps.declared().servers.has(name)) {
    throw new GatewayError("CONFLICT", `Virtual server "${name}" is declared in the config file; change it there`, { status: 409, data: { name } });
  }
}

/** `/admin/servers`: CRUD and enable/disable of virtual servers, persisted in the registry database. */
export function serverRoutes(deps: AdminDeps): AdminRoute[] {
  /** `auth` may only name configured providers. */
  const checkAuth = (name: string, spec: ServerSpec) => {
    const issues = checkServerAuth([{ name, auth: spec.auth }], deps.config().auth);
    if (issues.length > 0) throw new InputError(issues.map((i) => ({ field: i.path.replace(`servers.${name}.`, ""), message: i.message })));
  };
  const save = async (name: string, spec: ServerSpec, enabled: boolean) => {
    checkAuth(name, spec);
    await deps.store.servers.update(name, { spec: spec as Record<string, unknown>, enabled });
    await deps.apply();
    return describeServer(deps, findServer(deps, name));
  };
  return [
    {
      method: "GET",
      path: "/servers",
      tag: "servers",
      summary: "List virtual servers (config-declared and run-time)",
      run: async () => ({ servers: deps.views.specs().map((s) => describeServer(deps, s)) }),
    },
    {
      method: "POST",
      path: "/servers",
      tag: "servers",
      status: 201,
      summary: "Create a virtual server; 409 when the name is taken",
      body: { name: "string", description: "string", enabled: "boolean", tools: "selector[]", prompts: "selector[]", resources: "selector[]" },
      run: async ({ body }) => {
        const { name, enabled, ...spec } = parseInput(CreateSchema, await body());
        if (deps.views.spec(name)) throw new GatewayError("CONFLICT", `A virtual server named "${name}" already exists`, { status: 409, data: { name } });
        checkAuth(name, spec);
        await deps.store.servers.create({ name, spec, enabled: enabled ?? true });
        await deps.apply();
        return describeServer(deps, findServer(deps, name));
      },
    },
    {
      method: "GET",
      path: "/servers/:name",
      tag: "servers",
      summary: "One virtual server and the entries it exposes",
      run: async ({ params }) => describeServer(deps, findServer(deps, params.name!)),
    },
    {
      method: "PUT",
      path: "/servers/:name",
      tag: "servers",
      summary: "Replace a run-time virtual server's spec",
      body: { description: "string", enabled: "boolean", tools: "selector[]", prompts: "selector[]", resources: "selector[]" },
      run: async ({ params, body }) => {
        runtimeOnly(deps, params.name!);
        findServer(deps, params.name!);
        const { enabled, ...spec } = parseInput(ServerSpecSchema, await body());
        return save(params.name!, spec, enabled ?? true);
      },
    },
    {
      method: "PATCH",
      path: "/servers/:name",
      tag: "servers",
      summary: "Change some fields of a run-time virtual server",
      body: { description: "string", enabled: "boolean", tools: "selector[]", prompts: "selector[]", resources: "selector[]" },
      run: async ({ params, body }) => {
        runtimeOnly(deps, params.name!);
        const { name: _n, source: _s, enabled: was, ...current } = findServer(deps, params.name!);
        const { enabled, ...patch } = parseInput(ServerSpecSchema, await body());
        return save(params.name!, { ...current, ...patch }, enabled ?? was !== false);
      },
    },
    {
      method: "DELETE",
      path: "/servers/:name",
      tag: "servers",
      status: 204,
      summary: "Delete a run-time virtual server (its clients are disconnected)",
      run: async ({ params }) => {
        runtimeOnly(deps, params.name!);
        findServer(deps, params.name!);
        if (!(await deps.store.servers.delete(params.name!))) throw new GatewayError("NOT_FOUND", `Virtual server "${params.name}" not found`, { status: 404 });
        await deps.apply();
        return undefined;
      },
    },
    ...(["enable", "disable"] as const).map(
      (action): AdminRoute => ({
        method: "POST",
        path: `/servers/:name/${action}`,
        tag: "servers",
        summary: `${action === "enable" ? "Enable" : "Disable (404 on its endpoints, clients disconnected)"} a run-time virtual server`,
        run: async ({ params }) => {
          runtimeOnly(deps, params.name!);
          findServer(deps, params.name!);
          await deps.store.servers.setEnabled(params.name!, action === "enable");
          await deps.apply();
          return new Reply(200, describeServer(deps, findServer(deps, params.name!)));
        },
      }),
    ),
  ];
}
