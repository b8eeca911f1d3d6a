import type { H3 } from "h3";
import type { ResolvedConfig } from "../config/types.ts";
import { JsonRpcCode } from "../errors.ts";
import { authenticateRequest } from "../auth/authenticate.ts";
import { RESOURCE_METADATA_PATH, serveResourceMetadata } from "../auth/resource-metadata.ts";
import type { Identity } from "../auth/types.ts";
import type { PluginRunner } from "../plugins/runner.ts";
import type { CatalogViews } from "../registry/views.ts";
import { checkOrigin, rpcErrorResponse } from "../transports/http-guards.ts";
import type { Endpoint, Endpoints } from "./endpoints.ts";
import type { HealthReport } from "./health.ts";

type Handler = (request: Request, identity?: Identity) => Promise<Response>;

export interface McpRoutesDeps {
  /** The config in effect (swapped on reload). */
  config: () => ResolvedConfig;
  plugins: () => PluginRunner;
  /** Auth of the main endpoint (`undefined`) or of one virtual server. */
  authFor: (server: string | undefined) => ResolvedConfig["auth"];
  endpoints: Endpoints;
  views: CatalogViews;
  health: () => HealthReport;
}

/**
 * The MCP routes of a gateway: `/mcp` (or `server.path`), legacy `/sse` + `/messages`, `/ws`, the same under
 * `/servers/<name>/`, RFC 9728 metadata and `/health`. Every MCP route checks the Origin, runs `request:before`
 * plugins and authenticates before its transport sees the request.
 */
export function mountMcpRoutes(app: H3, deps: McpRoutesDeps): void {
  const { endpoints, views } = deps;
  const config = deps.config();
  type Guarded = (request: Request, identity?: Identity, server?: string) => Promise<Response>;
  const guard = (run: Guarded) => async (event: { req: Request; context: { params?: Record<string, string> } }) => {
    const { server: settings } = deps.config();
    const rejected = checkOrigin(event.req, { allowedOrigins: settings.allowedOrigins, host: settings.host });
    if (rejected) return rejected;
    const plugins = deps.plugins();
    if (plugins.has("request:before")) {
      const answered = await plugins.request(event.req);
      if (answered) return answered;
    }
    const server = event.context.params?.server;
    const auth = await authenticateRequest(deps.authFor(server), event.req, server);
    if (auth.response) return auth.response;
    return run(event.req, auth.identity, server);
  };
  const main = endpoints.get(undefined);
  app.all(config.server.path, guard(main.streamable));
  app.get("/sse", guard(main.sse.open));
  app.post("/messages", guard(main.sse.post));
  app.get("/ws", guard(main.ws));
  // A virtual server's routes: unknown or disabled servers are 404 before anything else runs.
  const serverRoute = (pick: (endpoint: Endpoint) => Handler) =>
    guard((request, identity, name) => {
      if (name === undefined || !views.server(name)) return Promise.resolve(rpcErrorResponse(404, JsonRpcCode.InvalidRequest, `Server not found: ${name}`));
      return pick(endpoints.get(name))(request, identity);
    });
  app.all("/servers/:server/mcp", serverRoute((e) => e.streamable));
  app.get("/servers/:server/sse", serverRoute((e) => e.sse.open));
  app.post("/servers/:server/messages", serverRoute((e) => e.sse.post));
  app.get("/servers/:server/ws", serverRoute((e) => e.ws));
  // RFC 9728 metadata: public (clients fetch it before they have a token); also under the resource URL's path.
  app.get(RESOURCE_METADATA_PATH, () => serveResourceMetadata(deps.config().auth.resource));
  app.get(`${RESOURCE_METADATA_PATH}/**`, () => serveResourceMetadata(deps.config().auth.resource));
  app.get("/health", () => {
    const report = deps.health();
    return Response.json(report, { status: report.status === "down" ? 503 : 200 });
  });
}
