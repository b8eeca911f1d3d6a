import { SignJWT } from "jose";
import * as v from "valibot";
import { readClaim } from "./policy.ts";
import type { Identity } from "./types.ts";

/** `_meta` key carrying forwarded claims (and `token` when signed). */
export const IDENTITY_META_KEY = "io.mcp-gateway/identity";

/**
 * Opt-in, per MCP upstream: pass selected claims of the caller's identity along with each request.
 * The client's own credentials are never forwarded; only these claims, taken from the verified identity.
 */
export interface ForwardIdentityConfig {
  /** Claim paths to forward (`sub`, `email`, `org.team`…). */
  claims: string[];
  /** `headers`: `X-Gateway-<Claim>` headers (HTTP upstreams); `meta`: `_meta["io.mcp-gateway/identity"]` (any transport). */
  as: "headers" | "meta";
  /** Header name prefix. Default `"X-Gateway-"`. */
  headerPrefix?: string;
  /** Also send a 60 s HS256 JWT of the claims (`X-Gateway-Identity` header or `_meta[...].token`), `aud` = upstream name. */
  sign?: boolean;
  /** HMAC key for `sign` (at least 32 bytes), e.g. `"${env.GATEWAY_IDENTITY_KEY}"`. */
  signingKey?: string;
}

const CLAIM_RE = /^[\w.:/-]{1,128}$/;

/** Valibot schema of {@link ForwardIdentityConfig} (upstream config `forwardIdentity`). */
export const ForwardIdentitySchema = v.pipe(
  v.strictObject(
    {
      claims: v.pipe(v.array(v.pipe(v.string(), v.regex(CLAIM_RE, "expected a claim path")), "expected an array of claim paths"), v.nonEmpty("expected at least one claim")),
      as: v.picklist(["headers", "meta"], 'expected "headers" or "meta"'),
      headerPrefix: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,32}$/, "expected letters, digits and -"))),
      sign: v.optional(v.boolean("expected true or false")),
      signingKey: v.optional(v.pipe(v.string("expected a string"), v.check((s) => Buffer.byteLength(s) >= 32, "expected at least 32 bytes"))),
    },
    (issue) => (issue.expected === "never" ? "unknown key (allowed: claims, as, headerPrefix, sign, signingKey)" : "expected an object"),
  ),
  v.check((c) => !c.sign || c.signingKey !== undefined, "`sign: true` needs a `signingKey` (at least 32 bytes)"),
);

/** What to add to one upstream request. */
export interface ForwardedIdentity {
  headers: Record<string, string>;
  /** Merged into `params._meta`. */
  meta: Record<string, unknown>;
}

/** Builds the headers or `_meta` for `identity`; claims that are absent are skipped, objects sent as JSON. */
export async function forwardIdentity(config: ForwardIdentityConfig, identity: Identity, audience: string): Promise<ForwardedIdentity> {
  const selected: Record<string, unknown> = {};
  for (const path of config.claims) {
    const value = path === "sub" ? identity.subject : readClaim(identity.claims, path);
    if (value !== undefined) selected[path] = value;
  }
  const token = config.sign && config.signingKey ? await signClaims(selected, identity.subject, audience, config.signingKey) : undefined;
  if (config.as === "meta") return { headers: {}, meta: { [IDENTITY_META_KEY]: { ...selected, ...(token ? { token } : {}) } } };
  const prefix = config.headerPrefix ?? "X-Gateway-";
  const headers: Record<string, string> = {};
  for (const [path, value] of Object.entries(selected)) {
    const name = `${prefix}${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
    // Header values cannot carry CR/LF or non-Latin-1: JSON-encode anything that is not a plain ASCII string.
    headers[name] = typeof value === "string" && /^[\x20-\x7e]*$/.test(value) ? value : JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  if (token) headers[`${prefix}Identity`] = token;
  return { headers, meta: {} };
}

async function signClaims(claims: Record<string, unknown>, subject: string, audience: string, key: string): Promise<string> {
  const { sub: _sub, iss: _iss, aud: _aud, exp: _exp, iat: _iat, nbf: _nbf, ...rest } = claims;
  return new SignJWT(rest)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setIssuer("mcp-gateway")
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime("60s")
    .sign(new TextEncoder().encode(key));
}
