import type { H3 } from "h3";
import { apiKeyRoutes } from "./api-key-routes.ts";
import { catalogRoutes } from "./catalog-routes.ts";
import { adminOpenApi } from "./openapi.ts";
import { opsRoutes } from "./ops-routes.ts";
import { mountAdminRoutes, type AdminRoute, type MountOptions } from "./route.ts";
import { promptRoutes } from "./prompt-routes.ts";
import { serverRoutes } from "./server-routes.ts";
import type { AdminDeps } from "./types.ts";
import { upstreamRoutes } from "./upstream-routes.ts";

export type { AdminDeps } from "./types.ts";

/** Registers the admin REST API under `/admin` (JSON; problem+JSON errors; OpenAPI at `/admin/openapi.json`). */
export function mountAdmin(app: H3, deps: AdminDeps, options: MountOptions & { version: string }): void {
  const routes: AdminRoute[] = [...catalogRoutes(deps), ...promptRoutes(deps), ...serverRoutes(deps), ...upstreamRoutes(deps), ...apiKeyRoutes(deps), ...opsRoutes(deps)];
  const document = adminOpenApi(routes, options.version);
  routes.push({ method: "GET", path: "/openapi.json", tag: "meta", summary: "This document", run: async () => document });
  mountAdminRoutes(app, routes, options);
}
