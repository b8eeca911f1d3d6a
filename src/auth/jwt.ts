import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { GatewayConfigError, type ConfigIssue } from "../errors.ts";
import { readBearerToken } from "./bearer.ts";
import { inspectCompactJwt } from "./jwt-inspect.ts";
import { KeySetUnavailableError, toAuthFailure } from "./jwt-errors.ts";
import type { AuthProvider, AuthResult } from "./types.ts";

/** HMAC algorithms and the minimum secret size (RFC 7518 §3.2: at least the hash size). */
const HMAC_ALGORITHMS: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };
const ASYMMETRIC_ALGORITHMS = new Set([
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
]);

export interface JwtProviderOptions {
  /** Provider name reported in `Identity.provider`. Default `"jwt"`. */
  name?: string;
  /** Shared secret for HS256/384/512. Exactly one of `secret` and `jwksUrl`. */
  secret?: string | Uint8Array;
  /** JWKS endpoint for RS/PS/ES/EdDSA keys; refetched on an unknown `kid` (rotation). */
  jwksUrl?: string;
  /** Accepted `iss` value(s). */
  issuer: string | string[];
  /** Accepted `aud` value(s); the token must carry at least one. */
  audience: string | string[];
  /** Explicit allow-list; HMAC and asymmetric algorithms cannot be mixed. */
  algorithms: string[];
  /** Leeway for `exp`/`nbf`, in seconds. Default 30. */
  clockToleranceSec?: number;
  /** Tokens longer than this are rejected before decoding. Default 8192. */
  maxTokenBytes?: number;
  /** Claim holding scopes. Default: `scope`, falling back to `scp`. Either claim may be a space-separated string or an array. */
  scopeClaim?: "scope" | "scp";
  /** How long a fetched key set is trusted, in ms. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between refetches triggered by unknown `kid`s, in ms. Default 30 s. */
  jwksCooldownMs?: number;
  /** JWKS fetch timeout, in ms. Default 2000. */
  jwksTimeoutMs?: number;
}

/**
 * Bearer JWT authentication with a shared secret (HS*) or a remote JWKS (RS/PS/ES/EdDSA).
 * Requires `exp` and `sub`; never reads tokens from query strings; failures never echo the token.
 * Throws `GatewayConfigError` on invalid options.
 */
export function jwtProvider(options: JwtProviderOptions): AuthProvider {
  const name = options.name ?? "jwt";
  const getKey = resolveKey(options);
  const algorithms = [...options.algorithms];
  const allowed = new Set(algorithms);
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const verifyOptions = {
    algorithms,
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockToleranceSec ?? 30,
    requiredClaims: ["exp", "sub"],
  };

  return {
    name,
    async authenticate(request: Request): Promise<AuthResult> {
      const token = readBearerToken(request);
      if (token === undefined) return { ok: false, reason: "missing", message: "missing bearer token" };

      const inspected = inspectCompactJwt(token, maxTokenBytes);
      if (!inspected.ok) return { ok: false, reason: "invalid", message: inspected.message };
      if (!allowed.has(inspected.header.alg)) {
        return { ok: false, reason: "invalid", message: "token algorithm is not allowed" };
      }

      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, verifyOptions));
      } catch (error) {
        return toAuthFailure(error);
      }
      if (typeof payload.sub !== "string" || payload.sub === "") {
        return { ok: false, reason: "invalid", message: "token has no subject (sub)" };
      }
      return {
        ok: true,
        identity: {
          subject: payload.sub,
          scopes: readScopes(payload, options.scopeClaim),
          claims: Object.freeze({ ...payload }),
          provider: name,
        },
      };
    },
  };
}

/** Scopes from `scope`/`scp`, accepting both the space-separated (RFC 8693) and array forms. */
export function readScopes(payload: JWTPayload, claim?: "scope" | "scp"): string[] {
  const value = claim ? payload[claim] : (payload.scope ?? payload.scp);
  const parts = typeof value === "string" ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  return [...new Set(parts.filter((s): s is string => typeof s === "string" && s !== ""))];
}

function resolveKey(options: JwtProviderOptions): Uint8Array | JWTVerifyGetKey {
  const issues = validateOptions(options);
  if (issues.length > 0) throw new GatewayConfigError(issues);

  if (options.secret !== undefined) {
    return typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
  }
  const remote = createRemoteJWKSet(new URL(options.jwksUrl!), {
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    timeoutDuration: options.jwksTimeoutMs ?? 2000,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      throw new KeySetUnavailableError(error instanceof errors.JWKSTimeout, error);
    }
  };
}

function validateOptions(o: JwtProviderOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path: path ? `auth.jwt.${path}` : "auth.jwt", message });
  const nonEmpty = (v: unknown) =>
    typeof v === "string" ? v !== "" : Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string" && s !== "");

  if (!nonEmpty(o.issuer)) issue("issuer", "required: a non-empty string or array of strings");
  if (!nonEmpty(o.audience)) issue("audience", "required: a non-empty string or array of strings");
  if ((o.secret === undefined) === (o.jwksUrl === undefined)) issue("", "set exactly one of `secret` and `jwksUrl`");

  const algs = Array.isArray(o.algorithms) ? o.algorithms : [];
  const hmac = algs.filter((a) => a in HMAC_ALGORITHMS);
  const asymmetric = algs.filter((a) => ASYMMETRIC_ALGORITHMS.has(a));
  if (algs.length === 0) issue("algorithms", "required: an explicit allow-list of algorithms");
  for (const alg of algs) {
    if (!(alg in HMAC_ALGORITHMS) && !ASYMMETRIC_ALGORITHMS.has(alg)) issue("algorithms", `unsupported algorithm "${alg}"`);
  }
  if (hmac.length > 0 && asymmetric.length > 0) {
    issue("algorithms", "must not mix HMAC (HS*) and asymmetric algorithms");
  }
  if (o.secret !== undefined) {
    if (asymmetric.length > 0) issue("algorithms", "a `secret` only supports HS256, HS384 and HS512");
    const bytes = typeof o.secret === "string" ? new TextEncoder().encode(o.secret).length : o.secret.length;
    const minBytes = Math.max(0, ...hmac.map((a) => HMAC_ALGORITHMS[a] ?? 0));
    if (bytes < minBytes) issue("secret", `must be at least ${minBytes} bytes for ${hmac.join(", ")}`);
  }
  if (o.jwksUrl !== undefined) {
    if (hmac.length > 0) issue("algorithms", "a `jwksUrl` only supports asymmetric algorithms");
    if (!URL.canParse(o.jwksUrl) || !/^https?:$/.test(new URL(o.jwksUrl).protocol)) issue("jwksUrl", "must be an http(s) URL");
  }
  if (o.clockToleranceSec !== undefined && !(Number.isFinite(o.clockToleranceSec) && o.clockToleranceSec >= 0)) {
    issue("clockToleranceSec", "must be a non-negative number");
  }
  if (o.maxTokenBytes !== undefined && !(Number.isInteger(o.maxTokenBytes) && o.maxTokenBytes > 0)) {
    issue("maxTokenBytes", "must be a positive integer");
  }
  for (const key of ["jwksTimeoutMs", "jwksCacheMaxAgeMs", "jwksCooldownMs"] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) issue(key, "must be a non-negative integer");
  }
  return issues;
}
