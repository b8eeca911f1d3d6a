import type { AuthInfo } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import { checkRequiredScopes, resourceMetadataUrl, type ResourceConfig } from "./resource-metadata.ts";
import type { AuthProvider, AuthResult, Identity } from "./types.ts";

/**
 * Try each provider in order; the first that accepts wins. A provider saying `missing` lets the next one try;
 * any other failure is remembered and reported if nobody accepts. `undefined` when no provider is configured.
 */
export async function authenticate(providers: readonly AuthProvider[], request: Request): Promise<AuthResult | undefined> {
  if (providers.length === 0) return undefined;
  let failure: AuthResult | undefined;
  for (const provider of providers) {
    const result = await provider.authenticate(request);
    if (result.ok) return result;
    if (result.reason !== "missing" || !failure) failure = result;
  }
  return failure;
}

/** Extra parameters of the `WWW-Authenticate` challenge. */
export interface ChallengeOptions {
  /** RFC 9728 metadata URL, sent as `resource_metadata` on every 401/403 when the gateway is an OAuth resource. */
  resourceMetadata?: string;
  /** Scopes needed, sent as `scope` on a 403 `insufficient_scope`. */
  scope?: readonly string[];
  /** Challenges of providers that are not Bearer-style (e.g. Basic); without a Bearer-style provider no Bearer challenge is sent. */
  others?: readonly string[];
  /** Whether any provider takes a bearer token (default true). */
  bearer?: boolean;
}

/** 401 (or 403) with `WWW-Authenticate` challenges (Bearer, plus e.g. Basic) and a JSON-RPC error body; never echoes credentials. */
export function unauthorized(result: Extract<AuthResult, { ok: false }>, options: ChallengeOptions = {}): Response {
  const forbidden = result.reason === "forbidden";
  const params: string[] = [];
  if (result.reason !== "missing") {
    params.push(`error="${forbidden ? "insufficient_scope" : "invalid_token"}"`, `error_description="${result.message.replace(/["\\]/g, "")}"`);
  }
  if (forbidden && options.scope?.length) params.push(`scope="${options.scope.join(" ").replace(/["\\]/g, "")}"`);
  if (options.resourceMetadata) params.push(`resource_metadata="${options.resourceMetadata.replace(/["\\]/g, "")}"`);
  const headers = new Headers();
  if (options.bearer !== false || !options.others?.length) headers.append("www-authenticate", params.length === 0 ? "Bearer" : `Bearer ${params.join(", ")}`);
  for (const other of options.others ?? []) headers.append("www-authenticate", other);
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: JsonRpcCode.InvalidRequest, message: `${forbidden ? "Forbidden" : "Unauthorized"}: ${result.message}` } },
    { status: forbidden ? 403 : 401, headers },
  );
}

/** What the SDK carries to handlers: the identity only (the raw token is never kept). */
export function toAuthInfo(identity: Identity): AuthInfo {
  return { token: "", clientId: identity.subject, scopes: identity.scopes, extra: { identity } };
}

/** The identity a handler context carries, if any. */
export function identityOf(authInfo: AuthInfo | undefined): Identity | undefined {
  return authInfo?.extra?.identity as Identity | undefined;
}

/**
 * The whole authentication step of a route: run the providers, then check `auth.resource.requiredScopes`.
 * Failures come back as ready 401/403 responses carrying `resource_metadata` (for `server`'s metadata when given).
 */
export async function authenticateRequest(
  auth: { providers: readonly AuthProvider[]; resource?: ResourceConfig },
  request: Request,
  server?: string,
): Promise<{ identity?: Identity; response?: undefined } | { response: Response }> {
  const others = [...new Set(auth.providers.flatMap((p) => (p.challenge ? [p.challenge] : [])))];
  const challenge: ChallengeOptions = {
    others,
    bearer: auth.providers.some((p) => !p.challenge),
    ...(auth.resource ? { resourceMetadata: resourceMetadataUrl(auth.resource, server) } : {}),
  };
  const result = await authenticate(auth.providers, request);
  if (result && !result.ok) return { response: unauthorized(result, challenge) };
  if (!result) return {};
  const lacking = checkRequiredScopes(result.identity, auth.resource?.requiredScopes);
  if (lacking) return { response: unauthorized(lacking, { ...challenge, scope: auth.resource?.requiredScopes }) };
  return { identity: result.identity };
}
