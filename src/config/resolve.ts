import { dirname, resolve as resolvePath } from "node:path";
import * as v from "valibot";
import { type ConfigIssue, GatewayConfigError } from "../errors.ts";
import { interpolateEnv } from "./env.ts";
import { parseAllowList } from "../net/address-policy.ts";
import { jwtProvider, type JwtProviderOptions } from "../auth/jwt.ts";
import { resolvePolicyConfig } from "../auth/policy-schema.ts";
import { ResourceConfigSchema, type ResourceConfig } from "../auth/resource-metadata.ts";
import type { AuthProvider } from "../auth/types.ts";
import { resolveLocalEntries } from "../upstreams/local/config.ts";
import { resolveRestApis } from "../upstreams/rest/config.ts";
import { GatewayConfigSchema } from "./schema.ts";
import type { GatewayConfig, ResolvedConfig, ResolvedUpstream, UpstreamConfig } from "./types.ts";

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions {
  /** Config file the input came from, named in errors. */
  file?: string;
  /** Variables for `${env.NAME}`. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Turns raw config input into a frozen {@link ResolvedConfig}: interpolates `${env.NAME}`,
 * validates, applies defaults and checks upstream prefixes.
 * @throws GatewayConfigError listing every issue as `dotted.path: message`.
 */
export function resolveConfig(input: unknown, opts: ResolveConfigOptions = {}): ResolvedConfig {
  // Plugins are code, not data: validated on their own and kept as the very objects the user passed.
  // So is auth: providers are objects; the JWT options are data (interpolated here, validated by jwtProvider).
  // Local tools, prompts and resources hold functions and schemas: validated by resolveLocalEntries.
  const { plugins: rawPlugins, auth: rawAuth, tools: rawTools, prompts: rawPrompts, resources: rawResources, ...data } = (input && typeof input === "object" ? input : {}) as {
    plugins?: unknown;
    auth?: unknown;
    tools?: unknown;
    prompts?: unknown;
    resources?: unknown;
  };
  const pluginIssues = checkPlugins(rawPlugins);
  const { value, issues } = interpolateEnv(input && typeof input === "object" ? data : input, opts.env ?? process.env);
  issues.push(...pluginIssues);
  const auth = resolveAuth(rawAuth, opts, issues);
  const result = v.safeParse(GatewayConfigSchema, value);
  if (!result.success) {
    // A field with an unset variable would fail validation too; one issue is enough.
    const envPaths = new Set(issues.map((i) => i.path));
    for (const issue of result.issues) {
      const path = v.getDotPath(issue) ?? "";
      if (!envPaths.has(path)) issues.push({ path, message: issue.message });
    }
  }
  if (!result.success || issues.length > 0) throw new GatewayConfigError(issues, opts.file);

  const defaulted = applyDefaults(result.output as GatewayConfig);
  const local = resolveLocalEntries(
    { tools: rawTools, prompts: rawPrompts, resources: rawResources, local: result.output.local },
    // File resource roots are relative to the config file (the working directory without one).
    { timeout: defaulted.defaults.timeout, upstreamNames: defaulted.upstreams.map((u) => u.name), ...(opts.file ? { baseDir: dirname(resolvePath(opts.file)) } : {}) },
  );
  const withLocal = local.upstream ? { ...defaulted, upstreams: [...defaulted.upstreams, local.upstream] } : defaulted;
  const rest = resolveRestApis(result.output.rest as GatewayConfig["rest"], { timeout: defaulted.defaults.timeout, upstreamNames: withLocal.upstreams.map((u) => u.name) });
  const config = { ...withLocal, upstreams: [...withLocal.upstreams, ...rest.upstreams] };
  const semanticIssues = [...local.issues, ...rest.issues, ...checkUpstreams(config), ...checkServerAuth(config.servers, auth!)];
  try {
    parseAllowList(config.network.allow);
  } catch (error) {
    semanticIssues.push({ path: "network.allow", message: (error as Error).message });
  }
  if (semanticIssues.length > 0) throw new GatewayConfigError(semanticIssues, opts.file);
  const plugins = Object.freeze([...((rawPlugins as ResolvedConfig["plugins"] | undefined) ?? [])]);
  return Object.freeze({ ...deepFreeze(config), plugins, auth: auth! });
}

/** A virtual server's `auth` may only name providers that exist (a typo must not lock everyone out, or in). */
export function checkServerAuth(servers: readonly { name: string; auth?: false | string[] }[], auth: ResolvedConfig["auth"]): ConfigIssue[] {
  const names = new Set([...auth.providers.map((p) => p.name), ...(auth.apiKeys ? ["apikey"] : [])]);
  const known = [...names].join(", ") || "none configured";
  return servers.flatMap((server) =>
    (server.auth || []).flatMap((name, i) => (names.has(name) ? [] : [{ path: `servers.${server.name}.auth.${i}`, message: `no auth provider named "${name}" (configured: ${known})` }])),
  );
}

/** `auth: { jwt?, providers? }` → the provider list (empty: no authentication on the MCP routes). */
function resolveAuth(raw: unknown, opts: ResolveConfigOptions, issues: ConfigIssue[]): ResolvedConfig["auth"] | undefined {
  if (raw === undefined) return Object.freeze({ providers: Object.freeze([]) });
  if (!raw || typeof raw !== "object") {
    issues.push({ path: "auth", message: "expected an object with jwt and/or providers" });
    return undefined;
  }
  const { jwt, providers, resource: rawResource, apiKeys, ...rest } = raw as { jwt?: unknown; providers?: unknown; resource?: unknown; apiKeys?: unknown };
  for (const key of Object.keys(rest)) issues.push({ path: `auth.${key}`, message: "unknown key (allowed: jwt, providers, resource, apiKeys)" });
  if (apiKeys !== undefined && typeof apiKeys !== "boolean") issues.push({ path: "auth.apiKeys", message: "expected true or false" });
  const resource = resolveResource(rawResource, opts, issues);
  const list: AuthProvider[] = [];
  if (jwt !== undefined) {
    const interpolated = interpolateEnv(jwt, opts.env ?? process.env);
    issues.push(...interpolated.issues.map((i) => ({ ...i, path: i.path ? `auth.jwt.${i.path}` : "auth.jwt" })));
    if (interpolated.issues.length === 0) {
      try {
        list.push(jwtProvider(bindAudience(interpolated.value, resource, issues) as JwtProviderOptions));
      } catch (error) {
        if (error instanceof GatewayConfigError) issues.push(...error.issues);
        else issues.push({ path: "auth.jwt", message: String((error as Error).message ?? error) });
      }
    }
  }
  if (providers !== undefined) {
    if (!Array.isArray(providers)) issues.push({ path: "auth.providers", message: "expected an array of auth providers" });
    else
      providers.forEach((provider: unknown, index) => {
        const ok = provider && typeof provider === "object" && typeof (provider as AuthProvider).authenticate === "function";
        if (ok) list.push(provider as AuthProvider);
        else issues.push({ path: `auth.providers.${index}`, message: "expected an object with an authenticate(request) function" });
      });
  }
  const jwtOptions = jwt !== undefined && list.length > 0 ? (bindAudience(interpolateEnv(jwt, opts.env ?? process.env).value, resource, []) as JwtProviderOptions) : undefined;
  return Object.freeze({ providers: Object.freeze(list), ...(jwtOptions ? { jwt: jwtOptions } : {}), ...(resource ? { resource } : {}), ...(apiKeys === true ? { apiKeys } : {}) });
}

/** `auth.resource`: validated RFC 9728 / RFC 8707 settings. */
function resolveResource(raw: unknown, opts: ResolveConfigOptions, issues: ConfigIssue[]): ResourceConfig | undefined {
  if (raw === undefined) return undefined;
  const interpolated = interpolateEnv(raw, opts.env ?? process.env);
  issues.push(...interpolated.issues.map((i) => ({ ...i, path: i.path ? `auth.resource.${i.path}` : "auth.resource" })));
  const result = v.safeParse(ResourceConfigSchema, interpolated.value);
  if (result.success) return deepFreeze(result.output as ResourceConfig);
  for (const issue of result.issues) {
    const path = v.getDotPath(issue);
    issues.push({ path: path ? `auth.resource.${path}` : "auth.resource", message: issue.message });
  }
  return undefined;
}

/** With `auth.resource`, the JWT audience is the resource URL (RFC 8707): defaulted, and any other value is an error. */
function bindAudience(jwt: unknown, resource: ResourceConfig | undefined, issues: ConfigIssue[]): unknown {
  if (!resource || !jwt || typeof jwt !== "object") return jwt;
  const { audience } = jwt as { audience?: unknown };
  const same = audience === undefined || audience === resource.url || (Array.isArray(audience) && audience.length === 1 && audience[0] === resource.url);
  if (!same) issues.push({ path: "auth.jwt.audience", message: `must be the resource URL "${resource.url}" (auth.resource.url) or be omitted` });
  return { ...jwt, audience: resource.url };
}

/** A plugin entry is an npm package name or an object with a `name` and, optionally, a `hooks` object. */
function checkPlugins(plugins: unknown): ConfigIssue[] {
  if (plugins === undefined) return [];
  if (!Array.isArray(plugins)) return [{ path: "plugins", message: "expected an array of plugins" }];
  const issues: ConfigIssue[] = [];
  plugins.forEach((plugin: unknown, index) => {
    const path = `plugins.${index}`;
    if (typeof plugin === "string") {
      if (!plugin) issues.push({ path, message: "expected a package name" });
      return;
    }
    if (!plugin || typeof plugin !== "object") {
      issues.push({ path, message: "expected a plugin object (definePlugin) or a package name" });
      return;
    }
    const { name, hooks } = plugin as { name?: unknown; hooks?: unknown };
    if (typeof name !== "string" || !name) issues.push({ path: `${path}.name`, message: "expected a non-empty string" });
    if (hooks !== undefined && (typeof hooks !== "object" || hooks === null)) issues.push({ path: `${path}.hooks`, message: "expected an object of hook functions" });
  });
  return issues;
}

function applyDefaults(input: GatewayConfig): Omit<ResolvedConfig, "plugins" | "auth"> {
  const timeout = input.defaults?.timeout ?? 30_000;
  return {
    server: {
      host: input.server?.host ?? "127.0.0.1",
      port: input.server?.port ?? 4444,
      path: input.server?.path ?? "/mcp",
      allowedOrigins: input.server?.allowedOrigins ?? [],
      maxBodySize: input.server?.maxBodySize ?? 4 * 1024 * 1024,
      pageSize: input.server?.pageSize ?? 500,
      sessionIdleTimeout: input.server?.sessionIdleTimeout ?? 30 * 60 * 1000,
    },
    naming: { separator: input.naming?.separator ?? "__" },
    defaults: { timeout },
    log: { level: input.log?.level ?? "info" },
    network: { allow: input.network?.allow ?? [] },
    policy: resolvePolicyConfig(input.policy),
    servers: Object.entries(input.servers ?? {}).map(([name, spec]) => ({ ...spec, name, source: "config" as const })),
    entries: input.entries ?? {},
    storage: { ...(input.storage?.db === undefined ? {} : { db: input.storage.db }), cache: input.storage?.cache ?? "memory", syncInterval: input.storage?.syncInterval ?? 2000 },
    admin: {
      enabled: input.admin?.token !== undefined || Object.keys(input.admin?.users ?? {}).length > 0,
      ...(input.admin?.token === undefined ? {} : { token: input.admin.token }),
      users: input.admin?.users ?? {},
    },
    upstreams: Object.entries(input.upstreams ?? {}).map(([name, upstream]) =>
      resolveUpstream(name, upstream, timeout),
    ),
  };
}

function resolveUpstream(name: string, upstream: UpstreamConfig, timeout: number): ResolvedUpstream {
  const common = {
    name,
    enabled: upstream.enabled ?? true,
    prefix: upstream.prefix ?? name,
    timeout: upstream.timeout ?? timeout,
    restart: {
      initialDelayMs: upstream.restart?.initialDelayMs ?? 250,
      maxDelayMs: upstream.restart?.maxDelayMs ?? 30_000,
      maxRetries: upstream.restart?.maxRetries ?? Number.POSITIVE_INFINITY,
    },
  } as const;
  if (upstream.type === "a2a") {
    const { url, headers = {}, skills = "per-skill" } = upstream;
    return { type: "a2a", ...common, isolation: "shared", protocol: "auto", url, headers, skills };
  }
  const mcp = {
    ...common,
    isolation: upstream.isolation ?? "shared",
    protocol: upstream.protocol ?? "auto",
    ...(upstream.forwardIdentity ? { forwardIdentity: upstream.forwardIdentity } : {}),
  } as const;
  switch (upstream.type) {
    case "stdio": {
      const { command, args = [], env = {}, cwd } = upstream;
      return { type: "stdio", ...mcp, command, args, env, ...(cwd === undefined ? {} : { cwd }) };
    }
    case "streamable-http":
    case "sse":
    case "websocket": {
      return { type: upstream.type, ...mcp, url: upstream.url, headers: upstream.headers ?? {} };
    }
  }
}

/** Rules that span fields: prefixes must be unique and unambiguous, backoff bounds ordered, identity forwardable. */
function checkUpstreams(config: Pick<ResolvedConfig, "upstreams" | "naming">): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { separator } = config.naming;
  const owners = new Map<string, string>();
  for (const upstream of config.upstreams) {
    const path = `upstreams.${upstream.name}`;
    const { prefix, restart } = upstream;
    if (restart.maxDelayMs < restart.initialDelayMs) {
      issues.push({
        path: `${path}.restart.maxDelayMs`,
        message: `must be at least initialDelayMs (${restart.initialDelayMs})`,
      });
    }
    if (upstream.type === "websocket" && upstream.forwardIdentity?.as === "headers") {
      // Headers go on the handshake only, and one socket carries every caller's requests.
      issues.push({ path: `${path}.forwardIdentity.as`, message: 'a websocket upstream cannot take per-request headers: use "meta"' });
    }
    if (prefix === false) continue;
    if (prefix.includes(separator)) {
      issues.push({
        path: `${path}.prefix`,
        message: `prefix "${prefix}" must not contain the naming separator "${separator}"`,
      });
    }
    if (!upstream.enabled) continue;
    const owner = owners.get(prefix);
    if (owner === undefined) owners.set(prefix, upstream.name);
    else {
      issues.push({
        path: `${path}.prefix`,
        message: `upstreams "${owner}" and "${upstream.name}" both use the prefix "${prefix}"`,
      });
    }
  }
  return issues;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
