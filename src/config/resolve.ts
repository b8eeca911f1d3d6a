import * as v from "valibot";
import { type ConfigIssue, GatewayConfigError } from "../errors.ts";
import { interpolateEnv } from "./env.ts";
import { parseAllowList } from "../net/address-policy.ts";
import { jwtProvider, type JwtProviderOptions } from "../auth/jwt.ts";
import type { AuthProvider } from "../auth/types.ts";
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
  const { plugins: rawPlugins, auth: rawAuth, ...data } = (input && typeof input === "object" ? input : {}) as {
    plugins?: unknown;
    auth?: unknown;
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

  const config = applyDefaults(result.output as GatewayConfig);
  const semanticIssues = checkUpstreams(config);
  try {
    parseAllowList(config.network.allow);
  } catch (error) {
    semanticIssues.push({ path: "network.allow", message: (error as Error).message });
  }
  if (semanticIssues.length > 0) throw new GatewayConfigError(semanticIssues, opts.file);
  const plugins = Object.freeze([...((rawPlugins as ResolvedConfig["plugins"] | undefined) ?? [])]);
  return Object.freeze({ ...deepFreeze(config), plugins, auth: auth! });
}

/** `auth: { jwt?, providers? }` → the provider list (empty: no authentication on the MCP routes). */
function resolveAuth(raw: unknown, opts: ResolveConfigOptions, issues: ConfigIssue[]): ResolvedConfig["auth"] | undefined {
  if (raw === undefined) return Object.freeze({ providers: Object.freeze([]) });
  if (!raw || typeof raw !== "object") {
    issues.push({ path: "auth", message: "expected an object with jwt and/or providers" });
    return undefined;
  }
  const { jwt, providers, ...rest } = raw as { jwt?: unknown; providers?: unknown };
  for (const key of Object.keys(rest)) issues.push({ path: `auth.${key}`, message: "unknown key (allowed: jwt, providers)" });
  const list: AuthProvider[] = [];
  if (jwt !== undefined) {
    const interpolated = interpolateEnv(jwt, opts.env ?? process.env);
    issues.push(...interpolated.issues.map((i) => ({ ...i, path: i.path ? `auth.jwt.${i.path}` : "auth.jwt" })));
    if (interpolated.issues.length === 0) {
      try {
        list.push(jwtProvider(interpolated.value as JwtProviderOptions));
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
  const jwtOptions = jwt !== undefined && list.length > 0 ? (interpolateEnv(jwt, opts.env ?? process.env).value as JwtProviderOptions) : undefined;
  return Object.freeze({ providers: Object.freeze(list), ...(jwtOptions ? { jwt: jwtOptions } : {}) });
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
  const mcp = { ...common, isolation: upstream.isolation ?? "shared", protocol: upstream.protocol ?? "auto" } as const;
  switch (upstream.type) {
    case "stdio": {
      const { command, args = [], env = {}, cwd } = upstream;
      return { type: "stdio", ...mcp, command, args, env, ...(cwd === undefined ? {} : { cwd }) };
    }
    case "streamable-http":
    case "sse": {
      return { type: upstream.type, ...mcp, url: upstream.url, headers: upstream.headers ?? {} };
    }
  }
}

/** Rules that span fields: prefixes must be unique and unambiguous, backoff bounds ordered. */
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
