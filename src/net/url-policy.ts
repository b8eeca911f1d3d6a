import { isIP } from "node:net";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { classifyAddress, normalizeHostname, parseAllowList, type AllowList } from "./address-policy.ts";

/** What `checkUrl` enforces besides the built-in rules. */
export interface UrlPolicy {
  /** Hosts, IPs and CIDRs that may be reached even though they are special-purpose. */
  allow?: AllowList | readonly string[];
}

/** Result of `checkUrl`. `host` is the normalized hostname, never the userinfo. */
export type UrlVerdict =
  | {
      ok: true;
      url: URL;
      host: string;
      /** Set when the host is an IP literal (no DNS needed). */
      address?: string;
      /** True when the host or literal address is on the allow-list. */
      allowed: boolean;
    }
  | { ok: false; host: string; reason: string };

const SCHEMES = new Set(["http:", "https:"]);

/** Resolves a `UrlPolicy.allow` value into an `AllowList`. */
export function toAllowList(allow: UrlPolicy["allow"]): AllowList {
  return allow === undefined || Array.isArray(allow)
    ? parseAllowList(allow as readonly string[] | undefined)
    : (allow as AllowList);
}

/**
 * Checks a URL before any network I/O: http(s) only, no userinfo, a non-empty well-formed host,
 * and literal IPs outside special-purpose ranges unless allow-listed. Hostnames still need a DNS
 * check (see `createSafeFetch`); only `localhost` names are rejected here.
 */
export function checkUrl(input: string | URL, policy: UrlPolicy = {}): UrlVerdict {
  let url: URL;
  try {
    // Re-parse URL objects too, so the checked value is always the WHATWG-canonical form.
    url = new URL(String(input));
  } catch {
    return { ok: false, host: "", reason: "invalid URL" };
  }
  const host = normalizeHostname(url.hostname);
  if (!SCHEMES.has(url.protocol)) {
    return { ok: false, host, reason: `scheme "${url.protocol}" is not allowed` };
  }
  if (url.username || url.password) {
    return { ok: false, host, reason: "credentials in the URL are not allowed" };
  }
  if (!host) return { ok: false, host, reason: "empty host" };
  const allow = toAllowList(policy.allow);
  if (isIP(host)) {
    if (allow.hasAddress(host)) return { ok: true, url, host, address: host, allowed: true };
    const verdict = classifyAddress(host);
    if (verdict.blocked) return { ok: false, host, reason: verdict.reason ?? "blocked address" };
    return { ok: true, url, host, address: host, allowed: false };
  }
  if (!host.split(".").every(Boolean)) return { ok: false, host, reason: "malformed host" };
  const allowed = allow.hasHost(host);
  if (!allowed && (host === "localhost" || host.endsWith(".localhost"))) {
    return { ok: false, host, reason: "localhost name (RFC 6761)" };
  }
  return { ok: true, url, host, allowed };
}

/** The error every SSRF refusal throws: names host and reason, never the full URL or its credentials. */
export function blockedRequestError(host: string, reason: string): GatewayError {
  const target = host ? ` to "${host}"` : "";
  return new GatewayError("FORBIDDEN", `Outbound request${target} blocked: ${reason}`, {
    status: 403,
    rpcCode: JsonRpcCode.Blocked,
    data: { host, reason },
  });
}
