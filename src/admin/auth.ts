import { createHash, timingSafeEqual } from "node:crypto";
import { problem } from "./problem.ts";

/** Credentials that open the admin API (`config.admin`). */
export interface AdminCredentials {
  token?: string;
  users: Readonly<Record<string, string>>;
}

/** Who called the admin API. */
export interface AdminPrincipal {
  subject: string;
  via: "token" | "basic";
}

const digest = (value: string) => createHash("sha256").update(value).digest();
/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Checks `Authorization: Bearer <admin token>` or `Basic <user:password>`. Returns the principal, or a 401
 * problem with both challenges. Credentials are never echoed.
 */
export function authenticateAdmin(request: Request, credentials: AdminCredentials): AdminPrincipal | Response {
  const header = request.headers.get("authorization") ?? "";
  const [scheme = "", value = ""] = header.split(/\s+/, 2);
  if (/^bearer$/i.test(scheme) && credentials.token !== undefined && value && same(value, credentials.token)) {
    return { subject: "admin-token", via: "token" };
  }
  if (/^basic$/i.test(scheme) && value) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      const user = decoded.slice(0, colon);
      const expected = Object.hasOwn(credentials.users, user) ? credentials.users[user]! : undefined;
      // Compare even for unknown users, so timing does not tell which names exist.
      const ok = same(decoded.slice(colon + 1), expected ?? "\u0000unknown-user");
      if (ok && expected !== undefined) return { subject: user, via: "basic" };
    }
  }
  const challenges = [credentials.token !== undefined ? 'Bearer realm="gateway-admin"' : "", Object.keys(credentials.users).length ? 'Basic realm="gateway-admin", charset="UTF-8"' : ""].filter(Boolean);
  return problem(401, "unauthorized", "Authentication required", { detail: header ? "Invalid admin credentials" : "Admin credentials required" }, { "www-authenticate": challenges.join(", ") });
}
