import { SignJWT } from "jose";

export interface MintTokenOptions {
  /** Shared secret; must match the `jwtProvider` secret. */
  secret: string | Uint8Array;
  sub: string;
  aud: string | string[];
  iss: string;
  /** Lifetime: seconds, or a jose time span such as `"15m"` or `"2h"`. */
  expiresIn: number | string;
  /** Scopes, written as the space-separated `scope` claim. */
  scope?: string | string[];
  /** Default `"HS256"`. */
  alg?: "HS256" | "HS384" | "HS512";
}

/** Signs an HMAC JWT that `jwtProvider({ secret })` accepts (for the `gateway token` CLI and tests). */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const key = typeof options.secret === "string" ? new TextEncoder().encode(options.secret) : options.secret;
  const scope = Array.isArray(options.scope) ? options.scope.join(" ") : options.scope;
  const now = Math.floor(Date.now() / 1000);
  const expiration = typeof options.expiresIn === "number" ? now + options.expiresIn : options.expiresIn;
  return new SignJWT(scope === undefined ? {} : { scope })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setSubject(options.sub)
    .setAudience(options.aud)
    .setIssuer(options.iss)
    .setIssuedAt(now)
    .setExpirationTime(expiration)
    .sign(key);
}
