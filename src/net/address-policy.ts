import { BlockList, isIP } from "node:net";
import { GatewayError } from "../errors.ts";

/** Verdict for one IP address: `reason` names the special-purpose range that blocked it. */
export interface AddressClass {
  blocked: boolean;
  reason?: string;
}

type V4Rule = readonly [net: string, prefix: number, reason: string];

// First match wins, so single addresses come before the ranges that contain them.
const V4_RULES: readonly V4Rule[] = [
  ["169.254.169.254", 32, "cloud metadata endpoint"],
  ["100.100.100.200", 32, "cloud metadata endpoint"],
  // Azure WireServer: public-looking, but only reachable from inside a VM.
  ["168.63.129.16", 32, "cloud metadata endpoint"],
  ["255.255.255.255", 32, "broadcast"],
  ["0.0.0.0", 8, '"this network" (0.0.0.0/8)'],
  ["10.0.0.0", 8, "private network (RFC 1918)"],
  ["100.64.0.0", 10, "shared address space / CGNAT (RFC 6598)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private network (RFC 1918)"],
  ["192.0.0.0", 24, "IETF protocol assignments (RFC 6890)"],
  ["192.0.2.0", 24, "documentation range (TEST-NET-1)"],
  ["192.88.99.0", 24, "6to4 relay anycast (deprecated)"],
  ["192.168.0.0", 16, "private network (RFC 1918)"],
  ["198.18.0.0", 15, "benchmarking (RFC 2544)"],
  ["198.51.100.0", 24, "documentation range (TEST-NET-2)"],
  ["203.0.113.0", 24, "documentation range (TEST-NET-3)"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved (240.0.0.0/4)"],
];

/** How an IPv6 range is judged: a fixed reason, or by the IPv4 address it embeds. */
type V6Rule = readonly [net: string, prefix: number, verdict: string | ((a: bigint) => bigint)];

const low32 = (a: bigint): bigint => a & 0xffff_ffffn;

const V6_RULES: readonly V6Rule[] = [
  ["::", 128, "unspecified address (::)"],
  ["::1", 128, "loopback (::1)"],
  ["fd00:ec2::254", 128, "cloud metadata endpoint"],
  ["::ffff:0:0", 96, low32], // IPv4-mapped
  ["::", 96, low32], // IPv4-compatible (deprecated)
  ["64:ff9b::", 96, low32], // NAT64 well-known prefix
  ["64:ff9b:1::", 48, "NAT64 local-use prefix (RFC 8215)"],
  ["100::", 64, "discard-only (RFC 6666)"],
  ["2001::", 32, "Teredo tunnelling (2001::/32)"],
  ["2001:2::", 48, "benchmarking (RFC 5180)"],
  ["2001:db8::", 32, "documentation range (2001:db8::/32)"],
  ["2002::", 16, (a) => (a >> 80n) & 0xffff_ffffn], // 6to4: 2002:AABB:CCDD::/48
  ["3fff::", 20, "documentation range (3fff::/20)"],
  ["fc00::", 7, "unique local address (fc00::/7)"],
  ["fe80::", 10, "link-local (fe80::/10)"],
  ["fec0::", 10, "site-local (deprecated)"],
  ["ff00::", 8, "multicast (ff00::/8)"],
];

const V6_KIND: Record<string, string> = {
  "::ffff:0:0": "IPv4-mapped",
  "::": "IPv4-compatible",
  "64:ff9b::": "NAT64",
  "2002::": "6to4",
};

/** Parses strict dotted-decimal IPv4 into a 32-bit number. */
export function parseIPv4(ip: string): number | undefined {
  if (isIP(ip) !== 4) return undefined;
  let n = 0;
  for (const part of ip.split(".")) {
    const octet = Number(part);
    if (!Number.isInteger(octet) || octet < 0 || octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/** Parses an IPv6 literal (optional `%zone`, optional embedded IPv4 tail) into a 128-bit number. */
export function parseIPv6(ip: string): bigint | undefined {
  const zone = ip.indexOf("%");
  const bare = zone === -1 ? ip : ip.slice(0, zone);
  if (isIP(bare) !== 6) return undefined;
  const halves = bare.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (!half) return [];
    const out: number[] = [];
    for (const g of half.split(":")) {
      if (g.includes(".")) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array<number>(fill).fill(0), ...tail]) n = (n << 16n) | BigInt(g);
  return n;
}

const formatIPv4 = (n: number): string =>
  [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");

const inV4 = (n: number, net: number, prefix: number): boolean =>
  prefix === 0 || n >>> (32 - prefix) === net >>> (32 - prefix);

const inV6 = (n: bigint, net: bigint, prefix: number): boolean =>
  n >> BigInt(128 - prefix) === net >> BigInt(128 - prefix);

function classifyIPv4(n: number): AddressClass {
  for (const [net, prefix, reason] of V4_RULES) {
    if (inV4(n, parseIPv4(net) ?? 0, prefix)) return { blocked: true, reason };
  }
  return { blocked: false };
}

function classifyIPv6(n: bigint): AddressClass {
  for (const [net, prefix, verdict] of V6_RULES) {
    if (!inV6(n, parseIPv6(net) ?? 0n, prefix)) continue;
    if (typeof verdict === "string") return { blocked: true, reason: verdict };
    const v4 = formatIPv4(Number(verdict(n)));
    const inner = classifyIPv4(Number(verdict(n)));
    return inner.blocked
      ? { blocked: true, reason: `${V6_KIND[net] ?? "embedded"} form of ${v4}: ${inner.reason}` }
      : { blocked: false };
  }
  if (!inV6(n, 0x2n << 124n, 3)) return { blocked: true, reason: "not global unicast (outside 2000::/3)" };
  return { blocked: false };
}

/**
 * Decides whether an IPv4/IPv6 literal (brackets and `%zone` accepted) is a special-purpose
 * address an outbound request must not reach. Anything that does not parse is blocked.
 */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(bare);
  if (v6 !== undefined) return classifyIPv6(v6);
  return { blocked: true, reason: "not an IP address" };
}

/** Operator-configured exceptions to the address policy. */
export interface AllowList {
  /** True when the hostname matches an exact or `*.suffix` entry (case-insensitive, trailing dot ignored). */
  hasHost(hostname: string): boolean;
  /** True when the IP literal matches an IP or CIDR entry (IPv4-mapped IPv6 also matches IPv4 entries). */
  hasAddress(ip: string): boolean;
}

/** Lowercases a hostname and removes brackets, `%zone` and one trailing dot. */
export function normalizeHostname(hostname: string): string {
  let h = hostname.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const zone = h.indexOf("%");
  if (zone !== -1 && isIP(h.slice(0, zone)) === 6) h = h.slice(0, zone);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

function canonicalHostname(name: string): string | undefined {
  if (!name || /[\s/\\@:?#[\]%*]/.test(name)) return undefined;
  try {
    const host = normalizeHostname(new URL(`http://${name}/`).hostname);
    return host.split(".").every(Boolean) ? host : undefined;
  } catch {
    return undefined;
  }
}

const invalidEntry = (entry: string, why: string): GatewayError =>
  new GatewayError("CONFIG_INVALID", `Invalid allow-list entry "${entry}": ${why}`, { status: 500 });

/**
 * Parses allow-list config strings: exact hostnames, `*.example.com` (subdomains only),
 * IPv4/IPv6 addresses and CIDRs. Throws a `CONFIG_INVALID` GatewayError on a bad entry.
 */
export function parseAllowList(entries: readonly string[] = []): AllowList {
  const ips = new BlockList();
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const slash = entry.indexOf("/");
    if (slash !== -1) {
      const net = normalizeHostname(entry.slice(0, slash));
      const bits = entry.slice(slash + 1);
      const family = isIP(net);
      const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
      if (family === 0 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw invalidEntry(raw, "expected an IP/prefix CIDR");
      }
      ips.addSubnet(net, prefix, family === 4 ? "ipv4" : "ipv6");
    } else if (isIP(normalizeHostname(entry))) {
      const ip = normalizeHostname(entry);
      ips.addAddress(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
    } else if (entry.startsWith("*.")) {
      const suffix = canonicalHostname(entry.slice(2));
      if (!suffix) throw invalidEntry(raw, "expected *.domain");
      suffixes.push(suffix);
    } else {
      const host = canonicalHostname(entry);
      if (!host) throw invalidEntry(raw, "expected a hostname, IP or CIDR (wildcards only as *.domain)");
      if (isIP(host)) ips.addAddress(host, isIP(host) === 4 ? "ipv4" : "ipv6");
      else hosts.add(host);
    }
  }
  return {
    hasHost(hostname) {
      const host = normalizeHostname(hostname);
      return hosts.has(host) || suffixes.some((s) => host.endsWith(`.${s}`));
    },
    hasAddress(ip) {
      const bare = normalizeHostname(ip);
      const family = isIP(bare);
      if (family === 4) return ips.check(bare, "ipv4");
      if (family !== 6) return false;
      if (ips.check(bare, "ipv6")) return true;
      const n = parseIPv6(bare);
      // Explicit check so IPv4 entries match mapped forms regardless of BlockList internals.
      return n !== undefined && inV6(n, 0xffff_0000_0000n, 96) && ips.check(formatIPv4(Number(low32(n))), "ipv4");
    },
  };
}
