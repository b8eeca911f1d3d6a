import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import { ServerNameSchema, ServerSpecSchema } from "../registry/server-spec.ts";
import { exportCatalog, importCatalog } from "../storage/snapshot.ts";
import { findMasked, maskSecrets } from "../_utils/mask.ts";
import { InputError, parseInput } from "./problem.ts";
import { hideSealed, sealSecrets } from "./sealed.ts";
import type { AdminRoute } from "./route.ts";
import { STORED_CONFIG, type AdminDeps } from "./types.ts";

const KINDS = { tools: "tool", prompts: "prompt", resources: "resource" } as const;

const ExplainSchema = v.strictObject(
  {
    token: v.optional(v.string("expected a string")),
    claims: v.optional(v.record(v.string(), v.unknown(), "expected an object")),
    method: v.pipe(v.string("expected a method, e.g. tools/call"), v.nonEmpty("expected a method, e.g. tools/call")),
    name: v.optional(v.string("expected a string")),
    server: v.optional(ServerNameSchema),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: token, claims, method, name, server)" : "expected an object"),
);

/** Import payloads pass the same checks as single writes before the all-or-nothing import runs. */
async function checkSnapshot(deps: AdminDeps, snapshot: unknown): Promise<void> {
  if (!snapshot || typeof snapshot !== "object") return;
  const { servers, upstreams } = snapshot as { servers?: unknown; upstreams?: unknown };
  const declared = deps.declared();
  if (Array.isArray(servers)) {
    servers.forEach((server: { name?: unknown; spec?: unknown }, i) => {
      parseInput(ServerNameSchema, server?.name, `servers.${i}.name`);
      parseInput(ServerSpecSchema, server?.spec, `servers.${i}.spec`);
      if (declared.servers.has(String(server.name))) throw new InputError([{ field: `servers.${i}.name`, message: `"${String(server.name)}" is declared in the config file` }]);
    });
  }
  if (Array.isArray(upstreams)) {
    for (const [i, upstream] of (upstreams as { name?: unknown; config?: unknown }[]).entries()) {
      const masked = findMasked(upstream?.config);
      if (masked !== undefined) throw new InputError([{ field: `upstreams.${i}.config.${masked}`, message: "holds a masked secret (****); supply the real value" }]);
      if (declared.upstreams.has(String(upstream?.name))) throw new InputError([{ field: `upstreams.${i}.name`, message: `"${String(upstream?.name)}" is declared in the config file` }]);
      try {
        await deps.checkUpstream(String(upstream?.name), upstream?.config);
      } catch (error) {
        if (error instanceof InputError) throw new InputError(error.issues, `upstreams.${i}`);
        throw error;
      }
    }
  }
}

/** Credentials in imported upstream configs are stored sealed, like single writes. */
function sealSnapshot(snapshot: unknown, deps: AdminDeps): unknown {
  const upstreams = (snapshot as { upstreams?: unknown }).upstreams;
  if (!Array.isArray(upstreams)) return snapshot;
  return {
    ...(snapshot as object),
    upstreams: upstreams.map((u: { config?: unknown }, i) => ({ ...u, config: sealSecrets(u.config, deps.secretBox, `upstreams.${i}.config`) })),
  };
}

/** `/admin/metrics`, `/admin/export`, `/admin/import`, `/admin/explain`, `/admin/health`. */
export function opsRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: "GET",
      path: "/metrics",
      tag: "metrics",
      summary: "Per-entry call metrics: calls, errors, latency min/avg/p95/max (ms), last used",
      run: async () => {
        await deps.metrics.flush();
        return { metrics: await deps.store.metrics.list() };
      },
    },
    {
      method: "DELETE",
      path: "/metrics",
      tag: "metrics",
      status: 204,
      summary: "Reset every entry's metrics",
      run: async () => {
        deps.metrics.discard();
        await deps.store.metrics.reset();
        return undefined;
      },
    },
    {
      method: "DELETE",
      path: "/metrics/:kind/:name",
      tag: "metrics",
      status: 204,
      summary: "Reset one entry's metrics (kind: tools, prompts or resources)",
      run: async ({ params }) => {
        const kind = KINDS[params.kind as keyof typeof KINDS];
        if (!kind) throw new InputError([{ field: "kind", message: "expected tools, prompts or resources" }]);
        await deps.metrics.flush();
        await deps.store.metrics.reset(kind, params.name!);
        return undefined;
      },
    },
    {
      method: "GET",
      path: "/export",
      tag: "transfer",
      summary: "The whole run-time catalog (servers, entry overrides, upstreams) as JSON, every secret masked",
      run: async () => maskSecrets(hideSealed(await exportCatalog(deps.store.db)), STORED_CONFIG),
    },
    {
      method: "POST",
      path: "/import",
      tag: "transfer",
      summary: "Import a catalog export, all or nothing (mode=merge: 409 on any existing name; mode=replace)",
      query: ["mode"],
      body: { format: "mcp-gateway-catalog", version: 1, servers: "[]", entries: "[]", upstreams: "[]" },
      run: async ({ body, query }) => {
        const mode = query.get("mode") ?? "merge";
        if (mode !== "merge" && mode !== "replace") throw new InputError([{ field: "mode", message: "expected merge or replace" }]);
        const snapshot = await body();
        await checkSnapshot(deps, snapshot);
        const counts = await importCatalog(deps.store.db, sealSnapshot(snapshot, deps), mode);
        await deps.apply();
        return { imported: counts };
      },
    },
    {
      method: "POST",
      path: "/explain",
      tag: "policy",
      summary: "Policy dry run: the decision for a token or claims on a method/entry, and the rule that made it",
      body: { token: "string", claims: "object", method: "string", name: "string", server: "string" },
      run: async ({ body }) => {
        const input = parseInput(ExplainSchema, await body());
        if ((input.token === undefined) === (input.claims === undefined) && input.token !== undefined) {
          throw new InputError([{ field: "token", message: "give token or claims, not both" }]);
        }
        if (input.server !== undefined && !deps.views.spec(input.server)) {
          throw new GatewayError("NOT_FOUND", `Virtual server "${input.server}" not found`, { status: 404 });
        }
        return deps.explain({ token: input.token, claims: input.claims }, input.method, input.name, input.server);
      },
    },
  ];
}
