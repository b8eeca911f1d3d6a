import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { AuthProvider, AuthResult } from "./types.ts";

const SCRYPT_PREFIX = "scrypt:";
const KEY_LENGTH = 64;

/** Options of {@link basicProvider}. */
export interface BasicProviderOptions {
  /** User name → password, either plain or a `scrypt:<salt>:<hash>` string from {@link hashPassword}. */
  users: Record<string, string>;
  /** Default `"basic"`. */
  name?: string;
  /** Scopes granted to every user. Default none. */
  scopes?: string[];
  /** Realm of the `WWW-Authenticate: Basic` challenge. Default `"mcp-gateway"`. */
  realm?: string;
}

/** A `scrypt:<salt b64>:<hash b64>` string for `basicProvider` / config, so no plaintext password sits in a file. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `${SCRYPT_PREFIX}${salt.toString("base64")}:${scryptSync(password, salt, KEY_LENGTH).toString("base64")}`;
}

/** Constant-time check of a password against a plain or scrypt-hashed stored value. */
export function passwordMatches(password: string, stored: string): boolean {
  if (stored.startsWith(SCRYPT_PREFIX)) {
    const [salt = "", hash = ""] = stored.slice(SCRYPT_PREFIX.length).split(":");
    const expected = Buffer.from(hash, "base64");
    if (expected.length !== KEY_LENGTH) return false;
    return timingSafeEqual(scryptSync(password, Buffer.from(salt, "base64"), KEY_LENGTH), expected);
  }
  // Hash both sides to equal lengths so the comparison time does not depend on where they differ.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(password), digest(stored));
}

/**
 * HTTP Basic authentication (meant for the admin API). Unknown users cost the same as wrong passwords.
 * The identity's subject is the user name.
 */
export function basicProvider(options: BasicProviderOptions): AuthProvider {
  const name = options.name ?? "basic";
  const users = new Map(Object.entries(options.users));
  // Compared against when the user is unknown, so timing does not reveal which user names exist.
  const random = randomBytes(16).toString("hex");
  const decoy = [...users.values()].some((v) => v.startsWith(SCRYPT_PREFIX)) ? hashPassword(random) : random;
  return {
    name,
    challenge: `Basic realm="${(options.realm ?? "mcp-gateway").replace(/["\\]/g, "")}", charset="UTF-8"`,
    async authenticate(request: Request): Promise<AuthResult> {
      const match = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(request.headers.get("authorization") ?? "");
      if (!match) return { ok: false, reason: "missing", message: "missing basic credentials" };
      const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return { ok: false, reason: "invalid", message: "malformed basic credentials" };
      const user = decoded.slice(0, colon);
      const stored = users.get(user);
      const ok = passwordMatches(decoded.slice(colon + 1), stored ?? decoy) && stored !== undefined;
      if (!ok) return { ok: false, reason: "invalid", message: "invalid user name or password" };
      return { ok: true, identity: { subject: user, scopes: [...(options.scopes ?? [])], claims: Object.freeze({ sub: user }), provider: name } };
    },
  };
}
