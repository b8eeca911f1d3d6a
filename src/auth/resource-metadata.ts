import * as v from "valibot";
import type { AuthResult, Identity } from "./types.ts";

/** Path of the RFC 9728 metadata document. */
export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

/** The gateway as an OAuth 2.1 protected resource (MCP authorization spec, RFC 9728 / RFC 8707). */
export interface ResourceConfig {
  /**
   * The gateway's public resource URL (RFC 8707 resource indicator). JWT `aud` must equal it. Use the gateway's base URL
   * (e.g. `https://gw.example.com/`) so it is a path prefix of every endpoint, virtual servers included.
   */
  url: string;
  /** Issuer URLs of the authorization servers clients get tokens from. */
  authorizationServers: string[];
  /** Scopes advertised in the metadata. */
  scopesSupported?: string[];
  /** Every authenticated request must carry all of these scopes, else 403 `insufficient_scope`. */
  requiredScopes?: string[];
  /** Human-readable name in the metadata. */
  resourceName?: string;
}

const URL_MESSAGE = "expected an http(s) URL";
const url = () => v.pipe(v.string(URL_MESSAGE), v.check((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), URL_MESSAGE));
const strings = () => v.optional(v.array(v.pipe(v.string(), v.nonEmpty()), "expected an array of strings"));

/** Valibot schema of {@link ResourceConfig} (`auth.resource`). */
export const ResourceConfigSchema = v.strictObject(
  {
    url: url(),
    authorizationServers: v.pipe(v.array(url(), "expected an array of URLs"), v.nonEmpty("expected at least one authorization server")),
    scopesSupported: strings(),
    requiredScopes: strings(),
    resourceName: v.optional(v.string()),
  },
  (issue) => issue.expected === "never" ? "unknown key (allowed: url, authorizationServers, scopesSupported, requiredScopes, resourceName)" : "expected an object",
);

/** Path (on the gateway) of the metadata for the main endpoint or a virtual server. */
export function resourceMetadataPath(server?: string): string {
  return server === undefined ? RESOURCE_METADATA_PATH : `${RESOURCE_METADATA_PATH}/servers/${encodeURIComponent(server)}/mcp`;
}

/** Absolute URL of the metadata, for `WWW-Authenticate: Bearer resource_metadata="..."`. */
export function resourceMetadataUrl(config: ResourceConfig, server?: string): string {
  const base = new URL(config.url);
  const prefix = base.pathname.replace(/\/$/, "");
  // RFC 9728 §3.1 inserts the well-known segment after the host; the gateway also serves it under its own base path.
  return `${base.origin}${resourceMetadataPath(server)}${server === undefined ? prefix : ""}`;
}

/** The RFC 9728 document. Virtual servers share the gateway's resource URL: one audience for every endpoint. */
export function protectedResourceMetadata(config: ResourceConfig): Record<string, unknown> {
  return {
    resource: config.url,
    authorization_servers: config.authorizationServers,
    bearer_methods_supported: ["header"],
    ...(config.scopesSupported ? { scopes_supported: config.scopesSupported } : {}),
    ...(config.resourceName ? { resource_name: config.resourceName } : {}),
  };
}

/** `GET /.well-known/oauth-protected-resource[...]`: public, cacheable, readable cross-origin (browser clients discover it). */
export function serveResourceMetadata(config: ResourceConfig | undefined): Response {
  if (!config) return Response.json({ error: "not_found" }, { status: 404 });
  return Response.json(protectedResourceMetadata(config), {
    headers: { "cache-control": "public, max-age=300", "access-control-allow-origin": "*" },
  });
}

/** A 403 `insufficient_scope` failure when `identity` lacks one of `required`; `undefined` when it has them all. */
export function checkRequiredScopes(identity: Identity, required: readonly string[] | undefined): Extract<AuthResult, { ok: false }> | undefined {
  const missing = (required ?? []).filter((scope) => !identity.scopes.includes(scope));
  if (missing.length === 0) return undefined;
  return { ok: false, reason: "forbidden", message: `missing required scope(s): ${missing.join(" ")}` };
}
