import type { GatewayPlugin } from "../plugins/types.ts";
import type { JwtProviderOptions } from "../auth/jwt.ts";
import type { AuthProvider } from "../auth/types.ts";
import type { RestApiConfig } from "../upstreams/rest/types.ts";
import type { PolicyConfig, ResolvedPolicyConfig } from "../auth/policy-schema.ts";
import type { ResourceConfig } from "../auth/resource-metadata.ts";
import type { ForwardIdentityConfig } from "../auth/forward-identity.ts";
import type { EntryOverrides, NamedServerSpec, ServerSpec } from "../registry/server-spec.ts";
import type { LocalPrompt, LocalResource, LocalTool } from "../upstreams/local/define.ts";

/** Log verbosity, from quietest to loudest. */
export type LogLevel = "silent" | "error" | "warn" | "info" | "debug";

/** `shared`: one upstream connection for all clients. `per-session`: one per client session. */
export type UpstreamIsolation = "shared" | "per-session";

/** MCP protocol generation spoken to an upstream; `auto` negotiates. */
export type UpstreamProtocol = "auto" | "legacy" | "2026-07-28";

/** Backoff used to restart a failed upstream (exponential, capped). */
export interface RestartPolicy {
  /** First delay before a restart, in ms. Default 250. */
  initialDelayMs?: number;
  /** Upper bound of the delay, in ms. Default 30000. */
  maxDelayMs?: number;
  /** Restarts before giving up. Default `Infinity`. */
  maxRetries?: number;
}

/** Fields every upstream kind accepts. */
export interface UpstreamCommonConfig {
  /** Default `true`. */
  enabled?: boolean;
  /** Namespace for the upstream's tools, resources and prompts. Default: the upstream's key; `false` = none. */
  prefix?: string | false;
  /** Request timeout in ms. Default: `defaults.timeout`. */
  timeout?: number;
  /** Default `"shared"`. */
  isolation?: UpstreamIsolation;
  /** Default `"auto"`. */
  protocol?: UpstreamProtocol;
  restart?: RestartPolicy;
  /** Opt-in: pass selected claims of the caller to this upstream (headers or `_meta`, optionally signed). */
  forwardIdentity?: ForwardIdentityConfig;
}

/** An MCP server started as a child process, spoken to over stdin/stdout. */
export interface StdioUpstreamConfig extends UpstreamCommonConfig {
  type: "stdio";
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** An MCP server reached over streamable HTTP. */
export interface StreamableHttpUpstreamConfig extends UpstreamCommonConfig {
  type: "streamable-http";
  url: string;
  headers?: Record<string, string>;
}

/** An MCP server reached over the legacy HTTP+SSE transport. */
export interface SseUpstreamConfig extends UpstreamCommonConfig {
  type: "sse";
  url: string;
  headers?: Record<string, string>;
}

/** An MCP server reached over WebSocket (subprotocol `mcp`, one JSON-RPC message per text frame). */
export interface WebSocketUpstreamConfig extends UpstreamCommonConfig {
  type: "websocket";
  /** `ws://` or `wss://` (`http://` and `https://` are accepted and converted). */
  url: string;
  /** Sent on the opening handshake, e.g. `authorization`. */
  headers?: Record<string, string>;
}

/** How an A2A agent appears as tools: one per skill on its card, or one for the whole agent. */
export type A2aSkillMode = "per-skill" | "single";

/**
 * An A2A agent, found by its agent card, whose skills are offered as MCP tools.
 * `isolation` and `protocol` do not apply (A2A is stateless HTTP; tasks carry their own ids).
 */
export interface A2aUpstreamConfig extends Omit<UpstreamCommonConfig, "isolation" | "protocol" | "forwardIdentity"> {
  type: "a2a";
  /** The agent card URL, or the agent's base URL (the card is then read from `<url>/.well-known/agent-card.json`). */
  url: string;
  /** Sent with every request to the agent (card included). Client credentials are never forwarded. */
  headers?: Record<string, string>;
  /** Default `"per-skill"`: one tool per skill on the card; `"single"`: one tool for the agent. */
  skills?: A2aSkillMode;
}

/** One upstream (an MCP server or an A2A agent), discriminated on `type`. */
export type UpstreamConfig = StdioUpstreamConfig | StreamableHttpUpstreamConfig | SseUpstreamConfig | WebSocketUpstreamConfig | A2aUpstreamConfig;

/** The gateway config as a user writes it: everything but each upstream's essentials is optional. */
export interface GatewayConfig {
  server?: {
    /** Default `"127.0.0.1"`. */
    host?: string;
    /** Default `4444`; `0` picks a free port. */
    port?: number;
    /** Default `"/mcp"`. */
    path?: string;
    /** Origins allowed to call the gateway from a browser. Default `[]`. */
    allowedOrigins?: string[];
    /** Largest accepted request body in bytes. Default 4 MiB. */
    maxBodySize?: number;
    /** Items per page in list results. Default `500`. */
    pageSize?: number;
    /** A 2025-era client session (streamable HTTP or SSE) with no request for this long is closed, in ms. Default 30 min. */
    sessionIdleTimeout?: number;
  };
  naming?: {
    /** Joins prefix and name, e.g. `search__query`. Default `"__"`. */
    separator?: string;
  };
  defaults?: {
    /** Upstream request timeout in ms. Default `30000`. */
    timeout?: number;
  };
  log?: {
    /** Default `"info"`. */
    level?: LogLevel;
  };
  /** Outbound requests a remote party can steer (A2A endpoints named by agent cards; later REST, OpenAPI, JWKS). */
  network?: {
    /**
     * Hosts, IPs and CIDRs the SSRF guard lets through although they are private, loopback or link-local
     * (e.g. `["127.0.0.1", "10.0.0.0/8", "*.internal.example"]`). The host of a configured upstream URL is always allowed.
     */
    allow?: string[];
  };
  /** Upstream servers by name; the name is used as the default prefix. */
  upstreams?: Record<string, UpstreamConfig>;
  /** HTTP APIs offered as tools (hand-written mappings and/or an OpenAPI import), by name; see docs/rest.md. */
  rest?: Record<string, RestApiConfig>;
  /**
   * Plugins in run order (see `priority`): objects from `definePlugin()` / a plugin factory, or the name of an npm
   * package whose default export is a plugin (or a function returning one).
   */
  plugins?: (GatewayPlugin | string)[];
  /**
   * Authentication of the MCP routes (`/mcp`, `/sse`, `/messages`). `jwt` builds a JWT provider; `providers` adds
   * custom ones (tried in order; the first that accepts wins). Omitted: no authentication.
   */
  auth?: {
    jwt?: JwtProviderOptions;
    providers?: AuthProvider[];
    /** The gateway as an OAuth 2.1 protected resource: RFC 9728 metadata, `resource_metadata` challenges, `aud` bound to `url`. */
    resource?: ResourceConfig;
    /** Accept API keys (`gk_…`) created through the admin API (`/admin/api-keys`; only their hashes are stored). */
    apiKeys?: boolean;
  };
  /** Authorization: roles/scopes/claims → allow/deny rules over methods, upstreams, servers and entry names (docs/security.md). */
  policy?: PolicyConfig;
  /** Virtual servers: curated bundles of catalog entries, each served at `/servers/<name>/mcp` (and `/sse`, `/ws`). */
  servers?: Record<string, ServerSpec>;
  /** Overrides for any catalog entry, everywhere: tags, description, annotations, `enabled: false` to hide it. */
  entries?: EntryOverrides;
  storage?: {
    /** Registry database: `postgres://…`, `sqlite:<file>`, `sqlite::memory:`. Default: SQLite at `.gateway/gateway.sqlite`, opened only when the admin API is enabled. */
    db?: string;
    /** Cache for upstream lists: `"memory"` (default) or a `redis://` URL. */
    cache?: string;
    /** How often (ms) to pick up run-time changes other gateways wrote to the same database. Default 2000. */
    syncInterval?: number;
  };
  /** Admin REST API under `/admin`: disabled unless a token or users are configured. */
  admin?: {
    /** Bearer token (at least 16 characters), e.g. `"${env.GATEWAY_ADMIN_TOKEN}"`. */
    token?: string;
    /** HTTP basic users: name → password. */
    users?: Record<string, string>;
  };
  /** Tools implemented by functions in this config (`defineTool`), served by the in-process upstream "local". */
  tools?: Record<string, LocalTool<any, any>>;
  /** Prompt templates (Liquid, `definePrompt`) served by the upstream "local". */
  prompts?: Record<string, LocalPrompt>;
  /** Static, file and computed resources (`defineResource`) served by the upstream "local". */
  resources?: Record<string, LocalResource>;
  /** How the local entries appear: `prefix` (default `false`: own names), `enabled`, `timeout`, `allowedRoot` for file resources. */
  local?: { enabled?: boolean; prefix?: string | false; timeout?: number; allowedRoot?: string };
}

/** {@link RestartPolicy} with every default applied. */
export interface ResolvedRestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetries: number;
}

/** Common upstream fields with every default applied. */
export interface ResolvedUpstreamCommon {
  /** The upstream's key in `upstreams`. */
  readonly name: string;
  readonly enabled: boolean;
  readonly prefix: string | false;
  readonly timeout: number;
  readonly isolation: UpstreamIsolation;
  readonly protocol: UpstreamProtocol;
  readonly restart: ResolvedRestartPolicy;
  readonly forwardIdentity?: ForwardIdentityConfig;
}

/** A resolved stdio upstream. */
export interface ResolvedStdioUpstream extends ResolvedUpstreamCommon {
  readonly type: "stdio";
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** A resolved streamable HTTP upstream. */
export interface ResolvedStreamableHttpUpstream extends ResolvedUpstreamCommon {
  readonly type: "streamable-http";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A resolved HTTP+SSE upstream. */
export interface ResolvedSseUpstream extends ResolvedUpstreamCommon {
  readonly type: "sse";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A resolved WebSocket upstream (`url` is always `ws:` or `wss:`). */
export interface ResolvedWebSocketUpstream extends ResolvedUpstreamCommon {
  readonly type: "websocket";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A resolved A2A upstream (`isolation` is always `"shared"`, `protocol` always `"auto"`). */
export interface ResolvedA2aUpstream extends ResolvedUpstreamCommon {
  readonly type: "a2a";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly skills: A2aSkillMode;
}

/** One upstream with every default applied. */
/**
 * The tools, prompts and resources declared in the config, served in process (name `"local"`). Holds code:
 * compared by the gateway with `LocalUpstream.update`, not by JSON.
 */
export interface ResolvedLocalUpstream extends ResolvedUpstreamCommon {
  readonly type: "local";
  readonly tools: Readonly<Record<string, LocalTool<any, any>>>;
  readonly prompts: Readonly<Record<string, LocalPrompt>>;
  readonly resources: Readonly<Record<string, LocalResource>>;
  /** Absolute default root of file resources (`local.allowedRoot`). */
  readonly allowedRoot?: string;
  /** Directory relative resource roots were resolved against. */
  readonly baseDir: string;
}

/** A REST API from the `rest` section (`isolation` is always `"shared"`, `protocol` always `"auto"`). */
export interface ResolvedRestUpstream extends ResolvedUpstreamCommon {
  readonly type: "rest";
  /** The API's config as validated (secrets interpolated; never printed). */
  readonly api: RestApiConfig;
}

export type ResolvedUpstream = ResolvedStdioUpstream | ResolvedStreamableHttpUpstream | ResolvedSseUpstream | ResolvedWebSocketUpstream | ResolvedA2aUpstream | ResolvedLocalUpstream | ResolvedRestUpstream;

/** A validated, frozen config with every default applied. */
export interface ResolvedConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly path: string;
    readonly allowedOrigins: readonly string[];
    readonly maxBodySize: number;
    readonly pageSize: number;
    readonly sessionIdleTimeout: number;
  };
  readonly naming: { readonly separator: string };
  readonly defaults: { readonly timeout: number };
  readonly log: { readonly level: LogLevel };
  readonly network: { readonly allow: readonly string[] };
  /** In declaration order. */
  readonly upstreams: readonly ResolvedUpstream[];
  readonly plugins: readonly (GatewayPlugin | string)[];
  readonly auth: {
    readonly providers: readonly AuthProvider[];
    /** The JWT options as configured (env interpolated), for `gateway token`. Never printed. */
    readonly jwt?: JwtProviderOptions;
    readonly resource?: ResourceConfig;
    readonly apiKeys?: boolean;
  };
  /** Always present: without `policy` in the input, `{ default: "allow", rules: [] }`. */
  readonly policy: ResolvedPolicyConfig;
  /** Virtual servers declared in config, in declaration order. */
  readonly servers: readonly NamedServerSpec[];
  readonly entries: EntryOverrides;
  readonly storage: { readonly db?: string; readonly cache: string; readonly syncInterval: number };
  readonly admin: { readonly enabled: boolean; readonly token?: string; readonly users: Readonly<Record<string, string>> };
}
