import type { AuthInfo } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
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

/** 401 (or 403) with a `WWW-Authenticate: Bearer` challenge and a JSON-RPC error body; never echoes credentials. */
export function unauthorized(result: Extract<AuthResult, { ok: false }>): Response {
  const forbidden = result.reason === "forbidden";
  const challenge =
    result.reason === "missing"
      ? "Bearer"
      : `Bearer error="${forbidden ? "insufficient_scope" : "invalid_token"}", error_description="${result.message.replace(/["\\]/g, "")}"`;
  return Response.json(
    { jsonrpc: "2.0", id: null, error: { code: JsonRpcCode.InvalidRequest, message: `${forbidden ? "Forbidden" : "Unauthorized"}: ${result.message}` } },
    { status: forbidden ? 403 : 401, headers: { "www-authenticate": challenge } },
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
