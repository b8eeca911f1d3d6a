import { InputError } from "../admin/problem.ts";
import { resolveConfig } from "../config/resolve.ts";
import type { ResolvedConfig, ResolvedUpstream } from "../config/types.ts";
import { GatewayConfigError, GatewayError } from "../errors.ts";
import { assertOutboundUrl } from "../net/safe-fetch.ts";
import type { UpstreamRecord } from "../storage/upstreams.ts";
import { toHttpUrl } from "../_utils/ws-url.ts";

/** Kinds the admin API may add: anything that only makes outbound HTTP(S) or WebSocket connections. Processes stay in the config file. */
const API_TYPES = new Set(["streamable-http", "sse", "websocket", "a2a", "rest", "local"]);

/**
 * Resolve an upstream definition that came through the admin API, with the config file's defaults. No `${env.X}`
 * interpolation: API input must not read the gateway's environment (it could send a secret to a host of its choosing).
 * @throws InputError naming the failed field as `config.<path>`.
 */
export function resolveRuntimeUpstream(name: string, raw: unknown, base: ResolvedConfig): ResolvedUpstream {
  const type = raw && typeof raw === "object" ? (raw as { type?: unknown }).type : undefined;
  if (typeof type === "string" && !API_TYPES.has(type)) {
    throw new InputError([{ field: "config.type", message: `"${type}" upstreams can only be declared in the config file (allowed here: ${[...API_TYPES].join(", ")})` }]);
  }
  if (type === "local") return resolveRuntimeLocal(name, raw as Record<string, unknown>, base);
  // A REST API is the `rest` section's shape plus `type: "rest"`; its OpenAPI spec must be a URL (no file reads).
  const rest = type === "rest";
  if (rest) {
    const spec = (raw as { openapi?: { spec?: unknown } }).openapi?.spec;
    if (spec !== undefined && !(typeof spec === "string" && /^https?:\/\//i.test(spec))) {
      throw new InputError([{ field: "config.openapi.spec", message: "expected an http(s) URL (file paths only in the config file)" }]);
    }
  }
  const { type: _type, ...api } = (raw ?? {}) as Record<string, unknown>;
  try {
    const section = rest ? { rest: { [name]: api } } : { upstreams: { [name]: raw } };
    const resolved = resolveConfig({ defaults: base.defaults, naming: base.naming, ...section }, { env: {} });
    return resolved.upstreams[0]!;
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    const prefix = `${rest ? "rest" : "upstreams"}.${name}`;
    throw new InputError(
      error.issues.map((issue) => ({
        field: issue.path.startsWith(prefix) ? `config${issue.path.slice(prefix.length)}` : issue.path || "config",
        message: issue.message.includes("${env.") || issue.message.includes("not set") ? "environment variables are not available to admin API input" : issue.message,
      })),
    );
  }
}

/**
 * `{ type: "local", prompts?, resources?, prefix? }`: prompts (Liquid templates) and static resources created through
 * the API, served in process like the config's local entries. No tools (they are code) and no file resources
 * (API input must not read the gateway's disk). The prefix defaults to the upstream's name.
 */
function resolveRuntimeLocal(name: string, raw: Record<string, unknown>, base: ResolvedConfig): ResolvedUpstream {
  const { type: _type, prompts = {}, resources = {}, prefix, ...rest } = raw;
  const issues = Object.keys(rest).map((key) => ({ field: `config.${key}`, message: "unknown key (allowed: type, prompts, resources, prefix)" }));
  if (resources && typeof resources === "object") {
    for (const [key, resource] of Object.entries(resources)) {
      for (const forbidden of ["file", "dir", "compute", "allowedRoot"]) {
        if (resource && typeof resource === "object" && forbidden in resource) {
          issues.push({ field: `config.resources.${key}.${forbidden}`, message: "only text or blob resources can be created through the API" });
        }
      }
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  try {
    const resolved = resolveConfig({ defaults: base.defaults, prompts, resources, local: prefix === undefined ? {} : { prefix } }, { env: {} });
    const local = resolved.upstreams.find((u) => u.type === "local");
    if (!local) throw new InputError([{ field: "config", message: "declare at least one prompt or resource" }]);
    return { ...local, name, prefix: prefix === undefined ? name : local.prefix };
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    throw new InputError(error.issues.map((issue) => ({ field: `config.${issue.path}`, message: issue.message })));
  }
}

/** Full check of a run-time upstream: valid, no prefix clash with the others, and its URL passes the SSRF guard. */
export async function checkRuntimeUpstream(name: string, raw: unknown, config: ResolvedConfig): Promise<ResolvedUpstream> {
  const upstream = resolveRuntimeUpstream(name, raw, config);
  if (upstream.prefix !== false) {
    const clash = config.upstreams.find((u) => u.name !== name && u.enabled && u.prefix === upstream.prefix);
    if (clash) throw new GatewayError("CONFLICT", `Prefix "${upstream.prefix}" is already used by upstream "${clash.name}"`, { status: 409, data: { prefix: upstream.prefix } });
  }
  // Every URL the upstream will reach: the REST upstream trusts its configured hosts, so API input is checked here.
  const urls: [string, unknown][] =
    upstream.type === "rest"
      ? [
          ["config.baseUrl", upstream.api.baseUrl],
          ["config.auth.tokenUrl", (upstream.api.auth as { tokenUrl?: unknown } | undefined)?.tokenUrl],
          ["config.openapi.spec", upstream.api.openapi?.spec],
        ]
      : [["config.url", "url" in upstream ? toHttpUrl(upstream.url) : undefined]];
  for (const [field, url] of urls) {
    if (typeof url !== "string") continue;
    try {
      await assertOutboundUrl(url, { allow: config.network.allow });
    } catch (error) {
      if (error instanceof GatewayError && error.code === "FORBIDDEN") throw new InputError([{ field, message: error.message }]);
      throw new InputError([{ field, message: "host could not be resolved" }]);
    }
  }
  return upstream;
}

/** The upstreams of the config file followed by the run-time ones that still resolve (a broken one is logged and skipped). */
export function composeUpstreams(
  base: ResolvedConfig,
  records: readonly UpstreamRecord[],
  onInvalid: (name: string, error: unknown) => void,
): ResolvedUpstream[] {
  const declared = new Set(base.upstreams.map((u) => u.name));
  const extra: ResolvedUpstream[] = [];
  for (const record of records) {
    if (declared.has(record.name)) continue;
    try {
      extra.push({ ...resolveRuntimeUpstream(record.name, record.config, base), enabled: record.enabled });
    } catch (error) {
      onInvalid(record.name, error);
    }
  }
  return [...base.upstreams, ...extra];
}
