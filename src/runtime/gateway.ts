import { randomBytes, randomUUID } from "node:crypto";
import { createMcpHandler, createRequestStateCodec, type McpHttpHandler } from "@modelcontextprotocol/server";
import { H3 } from "h3";
import { toNodeHandler } from "h3/node";
import { serve } from "srvx";
import type { GatewayConfig, ResolvedConfig, ResolvedUpstream } from "../config/types.ts";
import { resolveConfig } from "../config/resolve.ts";
import { GatewayError } from "../errors.ts";
import { Registry } from "../registry/registry.ts";
import { checkOrigin } from "../transports/http-guards.ts";
import { createLegacySseHandlers } from "../transports/legacy-sse.ts";
import { createStreamableHttpHandler } from "../transports/streamable-http.ts";
import { A2aUpstream } from "../upstreams/a2a-upstream.ts";
import { McpUpstream } from "../upstreams/mcp-upstream.ts";
import { PerSessionUpstream } from "../upstreams/per-session.ts";
import type { Upstream, UpstreamEvent } from "../upstreams/types.ts";
import { createLogger, type Logger } from "../_utils/logger.ts";
import { healthReport, type HealthReport } from "./health.ts";
import { InputFlows } from "./input-flows.ts";
import { Router, STATE_TTL_MS, type RequestStatePayload } from "./router.ts";
import { createSessionServer, type SessionInfo } from "./session-server.ts";
import { SessionStore } from "./sessions.ts";
import { fanOutCatalogChange, fanOutUpstreamNotification } from "./fan-out.ts";
import { loadPlugins } from "../plugins/load.ts";
import { PluginRunner } from "../plugins/runner.ts";
import { authenticate, identityOf, unauthorized } from "../auth/authenticate.ts";
import type { Identity } from "../auth/types.ts";

const VERSION = "0.1.0";

export interface CreateGatewayOptions {
  /** Use this logger instead of creating one from `config.log.level`. */
  log?: Logger;
  /** Fail start-up when two upstreams claim the same exposed name (default true). */
  strictNames?: boolean;
}

/** A running gateway. Everything it owns is released by `close()`. */
export interface Gateway {
  readonly config: ResolvedConfig;
  /** The h3 app: mount it in another h3/Nitro app, or call `app.fetch`. */
  readonly app: H3;
  /** Web-standard entry: `Request` in, `Response` out. */
  fetch(request: Request): Promise<Response>;
  /** Node `(req, res)` handler for `node:http` or Express (`app.use("/gw", gw.handler)`). */
  readonly handler: ReturnType<typeof toNodeHandler>;
  health(): HealthReport;
  /** Live size of the per-client state the gateway owns: both are 0 once every client has closed. */
  stats(): { sessions: number; inputFlows: number };
  /** Apply a new config: upstreams are added, removed or replaced; in-flight requests finish first. */
  reload(config: GatewayConfig | ResolvedConfig): Promise<void>;
  /** Serve on `config.server.host:port` (or the given overrides). */
  listen(options?: { port?: number; host?: string }): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

function isResolved(config: GatewayConfig | ResolvedConfig): config is ResolvedConfig {
  return Array.isArray((config as ResolvedConfig).upstreams);
}

/** Build a gateway from config: connect upstreams, build the catalog, return the handlers. */
export async function createGateway(input: GatewayConfig | ResolvedConfig, options: CreateGatewayOptions = {}): Promise<Gateway> {
  let config = isResolved(input) ? input : resolveConfig(input);
  const log = options.log ?? createLogger(config.log.level);
  const clientInfo = { name: "mcp-gateway", version: VERSION };
  let upstreams = new Map<string, Upstream>();
  const upstreamConfigs = new Map<string, ResolvedUpstream>();
  /** Keyed by the upstream object: on reload a replacement shares its predecessor's name. */
  const unsubscribers = new Map<Upstream, () => void>();
  const registry = new Registry({ separator: config.naming.separator, log });
  let plugins = await PluginRunner.create(await loadPlugins(config.plugins), log);
  const sessions = new SessionStore({
    idleTimeoutMs: config.server.sessionIdleTimeout,
    onAdd: (id) => plugins.session("session:start", { id, era: "legacy" }),
    onDelete: (id) => {
      plugins.session("session:end", { id, era: "legacy" });
      for (const upstream of upstreams.values()) if (upstream instanceof PerSessionUpstream) void upstream.endSession(id);
    },
  });
  const flows = new InputFlows({ ttlMs: 600_000 });
  const codec = createRequestStateCodec<RequestStatePayload>({ key: randomBytes(32), ttlSeconds: STATE_TTL_MS / 1000 });
  const router = new Router({
    registry,
    upstreams: () => upstreams,
    flows,
    pageSize: config.server.pageSize,
    isSubscribedElsewhere: (uri, sessionId) => sessions.isSubscribedElsewhere(uri, sessionId),
    plugins: () => plugins,
    log,
  });
  const serverDeps = { router, codec, serverInfo: { name: "mcp-gateway", version: VERSION }, log };
  const createServer = (info: SessionInfo) => createSessionServer(serverDeps, info);
  const modern: McpHttpHandler = createMcpHandler((ctx) => createServer({ id: randomUUID(), subscriptions: new Set(), identity: identityOf(ctx.authInfo) }), {
    legacy: "reject",
    maxRequestBodySize: config.server.maxBodySize,
    onerror: (error) => log.debug(`modern handler: ${error.message}`),
  });

  registry.onChange((change) => fanOutCatalogChange(change, sessions, modern));
  const onUpstreamEvent = (event: UpstreamEvent) => {
    if (event.type === "notification") fanOutUpstreamNotification(event.message, sessions, modern);
  };

  const startUpstream = (upstreamConfig: ResolvedUpstream): Upstream => {
    const upstream =
      upstreamConfig.type === "a2a"
        ? new A2aUpstream({ config: upstreamConfig, log, networkAllow: config.network.allow })
        : upstreamConfig.isolation === "per-session"
          ? new PerSessionUpstream({ config: upstreamConfig, log, clientInfo, isLiveSession: (id) => sessions.has(id) })
          : new McpUpstream({ config: upstreamConfig, log, clientInfo });
    unsubscribers.set(upstream, upstream.subscribe(onUpstreamEvent));
    upstreamConfigs.set(upstream.name, upstreamConfig);
    return upstream;
  };
  const syncRegistry = () =>
    registry.setUpstreams(config.upstreams.filter((u) => upstreams.has(u.name)).map((u) => ({ upstream: upstreams.get(u.name)!, prefix: u.prefix })));
  const retire = async (upstream: Upstream, drainMs: number) => {
    unsubscribers.get(upstream)?.();
    unsubscribers.delete(upstream);
    await upstream.close({ drainMs });
  };

  for (const upstreamConfig of config.upstreams) {
    if (upstreamConfig.enabled) upstreams.set(upstreamConfig.name, startUpstream(upstreamConfig));
  }
  syncRegistry();
  await Promise.all([...upstreams.values()].map((u) => u.start()));
  await registry.settled();

  const conflicts = registry.catalog.conflicts;
  if ((options.strictNames ?? true) && conflicts.length > 0) {
    registry.close();
    await Promise.allSettled([...upstreams.values()].map((u) => u.close()));
    await Promise.all([sessions.closeAll(), modern.close(), plugins.close()]);
    throw new GatewayError("NAME_COLLISION", `Name collisions between upstreams:\n  ${conflicts.join("\n  ")}`);
  }

  const streamable = createStreamableHttpHandler({ sessions, modern, createServer, maxBodySize: config.server.maxBodySize });
  // Relative to the `/sse` URL, so the client posts under whatever prefix the gateway is mounted at.
  const sse = createLegacySseHandlers({ sessions, createServer, messagesPath: "messages", maxBodySize: config.server.maxBodySize });

  const app = new H3();
  const guard = (run: (request: Request, identity?: Identity) => Promise<Response>) => async (event: { req: Request }) => {
    const rejected = checkOrigin(event.req, { allowedOrigins: config.server.allowedOrigins, host: config.server.host });
    if (rejected) return rejected;
    if (plugins.has("request:before")) {
      const answered = await plugins.request(event.req);
      if (answered) return answered;
    }
    const auth = await authenticate(config.auth.providers, event.req);
    if (auth && !auth.ok) return unauthorized(auth);
    return run(event.req, auth?.identity);
  };
  app.all(config.server.path, guard(streamable));
  app.get("/sse", guard(sse.open));
  app.post("/messages", guard(sse.post));
  app.get("/health", () => {
    const report = healthReport(config.upstreams, upstreams, registry.catalog, sessions.size);
    return Response.json(report, { status: report.status === "down" ? 503 : 200 });
  });

  let closed = false;
  const servers = new Set<{ close(): Promise<void> }>();

  const gateway: Gateway = {
    get config() {
      return config;
    },
    app,
    fetch: (request) => Promise.resolve(app.fetch(request)),
    handler: toNodeHandler(app),
    health: () => healthReport(config.upstreams, upstreams, registry.catalog, sessions.size),
    stats: () => ({ sessions: sessions.size, inputFlows: flows.size }),

    async reload(next) {
      const resolved = isResolved(next) ? next : resolveConfig(next);
      const nextUpstreams = new Map<string, Upstream>();
      // Drain with the retiring upstream's own timeout (its replacement may configure another).
      const retired: { upstream: Upstream; drainMs: number }[] = [];
      const retiring = (upstream: Upstream) => ({ upstream, drainMs: upstreamConfigs.get(upstream.name)?.timeout ?? 30_000 });
      const started: Upstream[] = [];
      for (const upstreamConfig of resolved.upstreams) {
        if (!upstreamConfig.enabled) continue;
        const current = upstreams.get(upstreamConfig.name);
        if (current && sameUpstream(upstreamConfigs.get(upstreamConfig.name), upstreamConfig)) {
          nextUpstreams.set(upstreamConfig.name, current);
          upstreamConfigs.set(upstreamConfig.name, upstreamConfig);
          continue;
        }
        if (current) retired.push(retiring(current));
        const fresh = startUpstream(upstreamConfig);
        nextUpstreams.set(upstreamConfig.name, fresh);
        started.push(fresh);
      }
      for (const [name, upstream] of upstreams) if (!nextUpstreams.has(name)) retired.push(retiring(upstream));
      const nextPlugins = await PluginRunner.create(await loadPlugins(resolved.plugins), log, plugins);
      await Promise.all(started.map((u) => u.start()));
      const previousPlugins = plugins;
      plugins = nextPlugins;
      void previousPlugins.close(nextPlugins);
      config = { ...resolved, server: config.server };
      upstreams = nextUpstreams;
      syncRegistry();
      await registry.settled();
      await Promise.allSettled(retired.map((r) => retire(r.upstream, r.drainMs)));
      log.info(`config reloaded: ${started.length} upstream(s) started, ${retired.length} retired`);
    },

    async listen(overrides = {}) {
      const server = serve({
        fetch: (request: Request) => app.fetch(request),
        port: overrides.port ?? config.server.port,
        hostname: overrides.host ?? config.server.host,
        silent: true,
        gracefulShutdown: false,
      });
      await server.ready();
      const handle = {
        url: server.url!.replace(/\/$/, ""),
        close: async () => {
          servers.delete(handle);
          await server.close(true);
        },
      };
      servers.add(handle);
      return handle;
    },

    async close() {
      if (closed) return;
      closed = true;
      flows.close();
      await sessions.closeAll();
      await modern.close();
      await Promise.allSettled([...servers].map((s) => s.close()));
      registry.close();
      await Promise.allSettled([...upstreams.values()].map((u) => u.close()));
      upstreams.clear();
      await plugins.close();
    },
  };
  return gateway;
}

function sameUpstream(a: ResolvedUpstream | undefined, b: ResolvedUpstream): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
