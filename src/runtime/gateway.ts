import { createHash, randomBytes } from "node:crypto";
import { createRequestStateCodec } from "@modelcontextprotocol/server";
import { H3 } from "h3";
import { toNodeHandler } from "h3/node";
import { serve } from "srvx";
import type { GatewayConfig, ResolvedConfig, ResolvedLocalUpstream, ResolvedUpstream } from "../config/types.ts";
import type { LocalPromptTemplate } from "../upstreams/local/define.ts";
import { resolveConfig } from "../config/resolve.ts";
import { GatewayError } from "../errors.ts";
import { Registry } from "../registry/registry.ts";
import { createListCache } from "../registry/list-cache.ts";
import { CatalogViews } from "../registry/views.ts";
import { createPolicy } from "../auth/policy.ts";
import { secretBoxFromEnv, type SecretBox } from "../auth/secret-box.ts";
import { apiKeyProvider } from "../auth/api-keys.ts";
import { mountAdmin } from "../admin/index.ts";
import { describeError } from "../_utils/errors.ts";
import { mergeEntryOverrides, openCatalogStore, type RuntimeState } from "./catalog-store.ts";
import { MetricsRecorder } from "./metrics.ts";
import { checkRuntimeUpstream, composeUpstreams } from "./runtime-upstreams.ts";
import { Endpoints } from "./endpoints.ts";
import { mountMcpRoutes } from "./mcp-routes.ts";
import { createUpstream } from "../upstreams/create.ts";
import { createUpgradeHandler, createWebSocketEndpoint, type WebSocketEndpointFactory } from "../transports/websocket.ts";
import { LocalUpstream } from "../upstreams/local/local-upstream.ts";
import type { Upstream, UpstreamEvent } from "../upstreams/types.ts";
import { createLogger, type Logger } from "../_utils/logger.ts";
import { healthReport, type HealthReport } from "./health.ts";
import { InputFlows } from "./input-flows.ts";
import { Router, STATE_TTL_MS, type RequestStatePayload } from "./router.ts";
import { createSessionServer, directDispatch, type SessionInfo } from "./session-server.ts";
import { SessionStore } from "./sessions.ts";
import { fanOutCatalogChange, fanOutUpstreamNotification } from "./fan-out.ts";
import { createListenResources } from "./listen-resources.ts";
import { loadPlugins } from "../plugins/load.ts";
import { PluginRunner } from "../plugins/runner.ts";
import type { AuthProvider, Identity } from "../auth/types.ts";
import { explainAccess, type Explanation, type ExplainSubject } from "../auth/explain.ts";

const VERSION = "0.1.0";

/** Stands in when a server's `auth` names no configured provider: nobody gets in. */
const NO_PROVIDER: AuthProvider = {
  name: "none",
  authenticate: async () => ({ ok: false, reason: "invalid", message: "no accepted authentication method is configured for this server" }),
};

export interface CreateGatewayOptions {
  /** Use this logger instead of creating one from `config.log.level`. */
  log?: Logger;
  /** Fail start-up when two upstreams claim the same exposed name (default true). */
  strictNames?: boolean;
  /** Encrypts credentials the admin API stores. Default: from `GATEWAY_SECRET_KEY(S)` in the environment. */
  secretBox?: SecretBox;
  /** Keep-alive interval for idle SSE streams (`: ping`) and WebSocket connections (ping frames), in ms. Default 15 000 / 30 000. */
  keepAliveMs?: number;
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
  /** Node `upgrade` listener serving `/ws` when you bring your own server: `server.on("upgrade", gw.handleUpgrade)`. */
  readonly handleUpgrade: (req: import("node:http").IncomingMessage, socket: import("node:stream").Duplex, head: Buffer) => Promise<void>;
  /** Builds a WebSocket route handler (run it behind the guard); `{ server }` scopes sessions to a virtual server. */
  readonly webSocket: WebSocketEndpointFactory;
  health(): HealthReport;
  /** Live size of the per-client state the gateway owns: both are 0 once every client has closed. */
  stats(): { sessions: number; inputFlows: number };
  /** Dry run of the authorization policy for a token or claims (`gateway explain`): the decision and the rule that made it. */
  explain(who: ExplainSubject, method: string, name?: string, server?: string): Promise<Explanation>;
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
  /** The config file's view; `config` adds the upstreams the admin API added (see `compose`). */
  let fileConfig = isResolved(input) ? input : resolveConfig(input);
  const log = options.log ?? createLogger(fileConfig.log.level);
  const secretBox = options.secretBox ?? secretBoxFromEnv();
  // API keys live in the registry database: opened for them too (see openCatalogStore).
  const store = await openCatalogStore(fileConfig, { secretBox });
  let runtime: RuntimeState = (await store?.load()) ?? { servers: [], entries: [], upstreams: [], unreadable: [] };
  /** The config file plus the run-time upstreams; a stored upstream that cannot be used is left out and reported. */
  const compose = (): ResolvedConfig => {
    for (const { name, reason } of runtime.unreadable) log.error(`run-time upstream "${name}" left out: ${reason}`);
    if (runtime.upstreams.length === 0) return fileConfig;
    const skip = (name: string, error: unknown) => log.warn(`run-time upstream "${name}" skipped: ${describeError(error)}`);
    return { ...fileConfig, upstreams: composeUpstreams(fileConfig, runtime.upstreams, skip) };
  };
  let config = compose();
  const apiKeys = store && fileConfig.auth.apiKeys ? apiKeyProvider({ store: store.apiKeys }) : undefined;
  /**
   * The providers of one endpoint: a virtual server's `auth` picks some of them by name, or none (`false`);
   * an unknown server gets the main endpoint's (and then its 404).
   */
  const authFor = (server: string | undefined): ResolvedConfig["auth"] => {
    const all = authOf(config);
    const chosen = server === undefined ? undefined : views.spec(server)?.auth;
    if (chosen === undefined) return all;
    if (chosen === false) return { ...all, providers: [] };
    const providers = all.providers.filter((p) => chosen.includes(p.name));
    // A list naming no configured provider must not turn into "no authentication".
    return { ...all, providers: providers.length > 0 ? providers : [NO_PROVIDER] };
  };
  /** The configured providers, plus API keys from the registry database when `auth.apiKeys` is on. */
  const authOf = (c: ResolvedConfig): ResolvedConfig["auth"] => (apiKeys && c.auth.apiKeys ? { ...c.auth, providers: [...c.auth.providers, apiKeys] } : c.auth);
  const clientInfo = { name: "mcp-gateway", version: VERSION };
  let upstreams = new Map<string, Upstream>();
  const upstreamConfigs = new Map<string, ResolvedUpstream>();
  /** Keyed by the upstream object: on reload a replacement shares its predecessor's name. */
  const unsubscribers = new Map<Upstream, () => void>();
  const listCache = createListCache({ url: fileConfig.storage.cache, onError: (error) => log.debug(`list cache: ${error.message}`) });
  const registry = new Registry({ separator: config.naming.separator, log, cache: listCache });
  let plugins = await PluginRunner.create(await loadPlugins(config.plugins), log);
  const sessions = new SessionStore({
    idleTimeoutMs: config.server.sessionIdleTimeout,
    onAdd: (id) => plugins.session("session:start", { id, era: "legacy" }),
    onDelete: (id) => {
      plugins.session("session:end", { id, era: "legacy" });
      for (const upstream of upstreams.values()) void upstream.endSession?.(id);
    },
  });
  const flows = new InputFlows({ ttlMs: 600_000 });
  const codec = createRequestStateCodec<RequestStatePayload>({ key: randomBytes(32), ttlSeconds: STATE_TTL_MS / 1000 });
  const views = new CatalogViews({ catalog: () => registry.catalog, log });
  let viewKey = "";
  /**
   * Re-derive the views from config + run-time state (a config server of the same name wins over a run-time one);
   * clients re-list when anything they see may have changed, and a removed server's clients are disconnected.
   */
  const refreshViews = async () => {
    const previous = views.specs();
    const declared = new Set(config.servers.map((s) => s.name));
    const entries = mergeEntryOverrides(config.entries, runtime.entries);
    views.update(entries, [...config.servers, ...runtime.servers.filter((s) => !declared.has(s.name))]);
    const key = JSON.stringify([entries, views.specs()]);
    if (key === viewKey) return;
    viewKey = key;
    for (const spec of previous) if (!views.server(spec.name)) await endpoints.drop(spec.name);
    fanOutCatalogChange({ tools: true, prompts: true, resources: true }, sessions, endpoints.modernHandlers());
  };
  // No policy configured: no per-entry checks at all on the hot path.
  const policyOf = (c: ResolvedConfig) => (c.policy.rules.length > 0 || c.policy.default === "deny" ? createPolicy(c.policy) : undefined);
  let policy = policyOf(config);
  const metrics = store ? new MetricsRecorder({ repository: store.metrics, log }) : undefined;
  const router = new Router({
    ...(metrics ? { observe: (method: string, name: string, ms: number, ok: boolean) => metrics.record(method, name, ms, ok) } : {}),
    catalog: (server) => views.catalogFor(server),
    policy: () => policy,
    upstreams: () => upstreams,
    flows,
    pageSize: config.server.pageSize,
    isSubscribedElsewhere: (uri, sessionId) => sessions.isSubscribedElsewhere(uri, sessionId),
    plugins: () => plugins,
    log,
  });
  const serverDeps = { router, codec, serverInfo: { name: "mcp-gateway", version: VERSION }, log };
  const createServer = (info: SessionInfo) => createSessionServer(serverDeps, info);
  const modernFast = { dispatchFor: (info: SessionInfo) => directDispatch(serverDeps, info), serverInfo: serverDeps.serverInfo };
  const listenResources = createListenResources({ sessions, dispatchFor: modernFast.dispatchFor, log });
  const webSocket = createWebSocketEndpoint({ sessions, createServer, listenResources, maxBodySize: config.server.maxBodySize, onerror: (error) => log.debug(`websocket: ${error.message}`) });
  const endpoints = new Endpoints({ sessions, createServer, modernFast, webSocket, listenResources, maxBodySize: config.server.maxBodySize, keepAliveMs: options.keepAliveMs, log });
  await refreshViews();

  registry.onChange((change) => fanOutCatalogChange(change, sessions, endpoints.modernHandlers()));
  const onUpstreamEvent = (event: UpstreamEvent) => {
    if (event.type === "notification") fanOutUpstreamNotification(event.message, sessions, endpoints.modernHandlers());
  };

  const startUpstream = (upstreamConfig: ResolvedUpstream): Upstream => {
    const upstream = createUpstream(upstreamConfig, { log, clientInfo, networkAllow: config.network.allow, isLiveSession: (id) => sessions.has(id) });
    unsubscribers.set(upstream, upstream.subscribe(onUpstreamEvent));
    upstreamConfigs.set(upstream.name, upstreamConfig);
    return upstream;
  };
  const syncRegistry = () =>
    registry.setUpstreams(
      config.upstreams
        .filter((u) => upstreams.has(u.name))
        .map((u) => ({ upstream: upstreams.get(u.name)!, prefix: u.prefix, fingerprint: createHash("sha256").update(JSON.stringify(u)).digest("base64url") })),
    );
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
    await Promise.all([sessions.closeAll(), endpoints.close(), plugins.close(), listCache.close()]);
    await metrics?.close();
    await store?.close();
    throw new GatewayError("NAME_COLLISION", `Name collisions between upstreams:\n  ${conflicts.join("\n  ")}`);
  }

  const app = new H3();
  const health = () => healthReport(config.upstreams, upstreams, registry.catalog, sessions.size);
  mountMcpRoutes(app, { config: () => config, plugins: () => plugins, authFor, endpoints, views, health });
  const upgrade = createUpgradeHandler((request) => app.fetch(request), { maxPayload: config.server.maxBodySize, pingIntervalMs: options.keepAliveMs });

  let closed = false;
  const servers = new Set<{ close(): Promise<void> }>();

  /** Diff the running upstreams against `resolved` (start, replace, retire with drain), then swap plugins, policy and views. */
  const apply = async (resolved: ResolvedConfig) => {
    const nextUpstreams = new Map<string, Upstream>();
    // Drain with the retiring upstream's own timeout (its replacement may configure another).
    const retired: { upstream: Upstream; drainMs: number }[] = [];
    const retiring = (upstream: Upstream) => ({ upstream, drainMs: upstreamConfigs.get(upstream.name)?.timeout ?? 30_000 });
    const started: Upstream[] = [];
    for (const upstreamConfig of resolved.upstreams) {
      if (!upstreamConfig.enabled) continue;
      const current = upstreams.get(upstreamConfig.name);
      if (current instanceof LocalUpstream && upstreamConfig.type === "local") {
        // Holds code, which JSON cannot compare: it takes the new definitions itself and announces what changed.
        current.update(upstreamConfig);
        nextUpstreams.set(upstreamConfig.name, current);
        upstreamConfigs.set(upstreamConfig.name, upstreamConfig);
        continue;
      }
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
    policy = policyOf(config);
    await refreshViews();
    upstreams = nextUpstreams;
    syncRegistry();
    await registry.settled();
    await Promise.allSettled(retired.map((r) => retire(r.upstream, r.drainMs)));
    log.info(`config reloaded: ${started.length} upstream(s) started, ${retired.length} retired`);
  };
  /** Run-time prompt templates (admin API history): the newest version of each is in effect. */
  const applyPromptVersions = async () => {
    if (!store) return;
    for (const version of await store.prompts.latestAll()) {
      const local = [...upstreams.values()].find((u): u is LocalUpstream => u instanceof LocalUpstream);
      try {
        local?.setPromptTemplate(version.prompt, version.template as LocalPromptTemplate);
      } catch (error) {
        log.warn(`stored version ${version.version} of prompt "${version.prompt}" not applied: ${describeError(error)}`);
      }
    }
  };
  let syncedVersion = store ? await store.version() : "";
  // Gateways sharing one database pick up each other's admin writes within `storage.syncInterval`.
  const sync = store
    ? setInterval(() => {
        void serialize(async () => {
          if (closed || (await store.version()) === syncedVersion) return;
          await reloadRuntime();
        }).catch((error: unknown) => log.warn(`could not sync the run-time catalog: ${describeError(error)}`));
      }, fileConfig.storage.syncInterval)
    : undefined;
  sync?.unref();
  let applying: Promise<unknown> = Promise.resolve();
  /** Config reloads and admin writes apply one at a time, in order. */
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = applying.then(fn, fn);
    applying = run.catch(() => {});
    return run;
  };
  const explain = (who: ExplainSubject, method: string, name?: string, server?: string) =>
    explainAccess({ providers: authOf(config).providers, policy: config.policy, catalog: views.catalogFor(server) ?? views.base() }, who, method, name, server);

  const gateway: Gateway = {
    get config() {
      return config;
    },
    app,
    fetch: (request) => Promise.resolve(app.fetch(request)),
    handler: toNodeHandler(app),
    handleUpgrade: upgrade,
    webSocket,
    health,
    stats: () => ({ sessions: sessions.size, inputFlows: flows.size }),
    explain,

    reload(next) {
      const resolved = isResolved(next) ? next : resolveConfig(next);
      return serialize(() => {
        fileConfig = resolved;
        return apply(compose());
      });
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
      server.node?.server?.on("upgrade", upgrade);
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
      await webSocket.closeAll();
      upgrade.close();
      await endpoints.close();
      await Promise.allSettled([...servers].map((s) => s.close()));
      registry.close();
      await Promise.allSettled([...upstreams.values()].map((u) => u.close()));
      upstreams.clear();
      await plugins.close();
      clearInterval(sync);
      await applying;
      await metrics?.close();
      await store?.close();
      await listCache.close();
    },
  };
  if (store && fileConfig.admin.enabled) {
    mountAdmin(
      app,
      {
        store,
        catalog: () => registry.catalog,
        views,
        overrides: () => mergeEntryOverrides(config.entries, runtime.entries),
        config: () => config,
        declared: () => ({ upstreams: new Set(fileConfig.upstreams.map((u) => u.name)), servers: new Set(fileConfig.servers.map((s) => s.name)) }),
        upstreamStatus: (name) => upstreams.get(name)?.status(),
        apply: () => serialize(reloadRuntime),
        localPrompt: (name) => {
          const entry = registry.catalog.prompts.get(name);
          const upstream = entry && upstreams.get(entry.upstream);
          if (!entry || !(upstream instanceof LocalUpstream)) return undefined;
          const declared = config.upstreams.find((u): u is ResolvedLocalUpstream => u.name === entry.upstream && u.type === "local");
          return {
            key: entry.original,
            configTemplate: () => declared?.prompts[entry.original]?.template,
            set: (template) => upstream.setPromptTemplate(entry.original, template as LocalPromptTemplate),
          };
        },
        checkUpstream: async (name, raw) => {
          await checkRuntimeUpstream(name, raw, config);
        },
        metrics: metrics!,
        secretBox,
        explain,
      },
      {
        credentials: () => ({ token: fileConfig.admin.token, users: fileConfig.admin.users }),
        allowedOrigins: () => config.server.allowedOrigins,
        host: () => config.server.host,
        maxBodySize: () => config.server.maxBodySize,
        version: VERSION,
      },
    );
  }
  await applyPromptVersions();
  return gateway;

  /** Re-read what the admin API stored (this gateway's writes or another one's) and apply it. */
  async function reloadRuntime(): Promise<void> {
    if (!store) return;
    syncedVersion = await store.version();
    runtime = await store.load();
    await apply(compose());
    await applyPromptVersions();
  }
}

function sameUpstream(a: ResolvedUpstream | undefined, b: ResolvedUpstream): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
