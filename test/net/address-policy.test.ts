import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.ts";
import { classifyAddress, parseAllowList, parseIPv4, parseIPv6 } from "../../src/net/address-policy.ts";

describe("classifyAddress", () => {
  const blocked: Array<[ip: string, reason: RegExp]> = [
    ["127.0.0.1", /loopback/],
    ["127.255.255.255", /loopback/],
    ["0.0.0.0", /this network/],
    ["0.1.2.3", /this network/],
    ["10.1.2.3", /RFC 1918/],
    ["172.16.0.1", /RFC 1918/],
    ["172.31.255.255", /RFC 1918/],
    ["192.168.255.255", /RFC 1918/],
    ["169.254.1.1", /link-local/],
    ["169.254.169.254", /metadata/],
    ["100.100.100.200", /metadata/],
    ["168.63.129.16", /metadata/],
    ["100.64.0.0", /CGNAT/],
    ["100.127.255.255", /CGNAT/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.255", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["240.0.0.1", /reserved/],
    ["198.18.0.1", /benchmarking/],
    ["198.19.255.255", /benchmarking/],
    ["192.0.2.1", /TEST-NET-1/],
    ["198.51.100.1", /TEST-NET-2/],
    ["203.0.113.1", /TEST-NET-3/],
    ["192.0.0.8", /IETF/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["[::1]", /loopback/],
    ["::ffff:127.0.0.1", /IPv4-mapped form of 127\.0\.0\.1: loopback/],
    ["::ffff:7f00:1", /IPv4-mapped form of 127\.0\.0\.1/],
    ["::ffff:a9fe:a9fe", /metadata/],
    ["::127.0.0.1", /IPv4-compatible form of 127\.0\.0\.1/],
    ["::a00:1", /IPv4-compatible form of 10\.0\.0\.1/],
    ["64:ff9b::7f00:1", /NAT64 form of 127\.0\.0\.1/],
    ["64:ff9b::192.168.0.1", /NAT64 form of 192\.168\.0\.1/],
    ["64:ff9b:1::1", /local-use/],
    ["2002:7f00:1::", /6to4 form of 127\.0\.0\.1/],
    ["2002:a00:1::1", /6to4 form of 10\.0\.0\.1/],
    ["2001::1", /Teredo/],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", /Teredo/],
    ["2001:db8::1", /documentation/],
    ["3fff::1", /documentation/],
    ["2001:2::1", /benchmarking/],
    ["100::1", /discard/],
    ["fc00::1", /unique local/],
    ["fd00::1", /unique local/],
    ["fd00:ec2::254", /metadata/],
    ["fe80::1", /link-local/],
    ["fe80::1%eth0", /link-local/],
    ["febf::1", /link-local/],
    ["fec0::1", /site-local/],
    ["ff02::1", /multicast/],
    ["::ffff:0:7f00:1", /outside 2000::\/3/],
    ["4000::1", /outside 2000::\/3/],
  ];
  it.each(blocked)("blocks %s", (ip, reason) => {
    const verdict = classifyAddress(ip);
    expect(verdict.blocked).toBe(true);
    expect(verdict.reason).toMatch(reason);
  });

  const publicAddresses = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80e::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ];
  it.each(publicAddresses)("lets public address %s through", (ip) => {
    expect(classifyAddress(ip)).toEqual({ blocked: false });
  });

  it.each(["", "example.com", "1.2.3", "0177.0.0.1", "0x7f.0.0.1", "256.0.0.1", "1:2:3:4:5:6:7:8:9", "::ffff:1.2.3.256", "[::1"])(
    "blocks %j because it is not a canonical IP literal",
    (ip) => {
      expect(classifyAddress(ip)).toEqual({ blocked: true, reason: "not an IP address" });
    },
  );
});

describe("IP parsing", () => {
  it("parses IPv4 into a 32-bit number and rejects non-canonical forms", () => {
    expect(parseIPv4("255.255.255.255")).toBe(0xffff_ffff);
    expect(parseIPv4("10.0.0.1")).toBe(0x0a00_0001);
    expect(parseIPv4("010.0.0.1")).toBeUndefined();
    expect(parseIPv4("10.0.1")).toBeUndefined();
  });

  it("parses every IPv6 spelling of the same address to the same number", () => {
    const loop = parseIPv6("::1");
    expect(loop).toBe(1n);
    expect(parseIPv6("0:0:0:0:0:0:0:1")).toBe(loop);
    expect(parseIPv6("0000::0001")).toBe(loop);
    expect(parseIPv6("::ffff:127.0.0.1")).toBe(parseIPv6("::ffff:7f00:1"));
    expect(parseIPv6("0:0:0:0:0:ffff:127.0.0.1")).toBe(0xffff_7f00_0001n);
    expect(parseIPv6("fe80::1%eth0")).toBe(parseIPv6("fe80::1"));
    expect(parseIPv6("1::2::3")).toBeUndefined();
    expect(parseIPv6("127.0.0.1")).toBeUndefined();
  });
});

describe("parseAllowList", () => {
  it("matches exact hostnames case-insensitively and ignores one trailing dot", () => {
    const allow = parseAllowList(["API.Example.com"]);
    expect(allow.hasHost("api.example.com")).toBe(true);
    expect(allow.hasHost("API.EXAMPLE.COM.")).toBe(true);
    expect(allow.hasHost("x.api.example.com")).toBe(false);
    expect(allow.hasHost("example.com")).toBe(false);
  });

  it("matches *.domain against subdomains only, never the apex or look-alike suffixes", () => {
    const allow = parseAllowList(["*.svc.internal"]);
    expect(allow.hasHost("a.svc.internal")).toBe(true);
    expect(allow.hasHost("a.b.svc.internal")).toBe(true);
    expect(allow.hasHost("svc.internal")).toBe(false);
    expect(allow.hasHost("evilsvc.internal")).toBe(false);
    expect(allow.hasHost("svc.internal.evil.com")).toBe(false);
  });

  it("matches IPv4 and IPv6 addresses and CIDRs, including IPv4-mapped forms", () => {
    const allow = parseAllowList(["127.0.0.1", "10.1.0.0/16", "fd00::/8", "[fe80::1]"]);
    expect(allow.hasAddress("127.0.0.1")).toBe(true);
    expect(allow.hasAddress("::ffff:127.0.0.1")).toBe(true);
    expect(allow.hasAddress("127.0.0.2")).toBe(false);
    expect(allow.hasAddress("10.1.255.255")).toBe(true);
    expect(allow.hasAddress("10.2.0.0")).toBe(false);
    expect(allow.hasAddress("fd12::1")).toBe(true);
    expect(allow.hasAddress("fe80::1")).toBe(true);
    expect(allow.hasAddress("fc00::1")).toBe(false);
    expect(allow.hasAddress("not-an-ip")).toBe(false);
  });

  it("canonicalises IDN hostnames and short IPv4 spellings the way URLs do", () => {
    const allow = parseAllowList(["münchen.de", "127.1"]);
    expect(allow.hasHost("xn--mnchen-3ya.de")).toBe(true);
    expect(allow.hasAddress("127.0.0.1")).toBe(true);
  });

  it.each(["*", "a.*.com", "*.", "10.0.0.0/33", "::/129", "10.0.0.0/x", "foo/8", "http://x.com", "user@x.com", "x.com:80", "", "a..b"])(
    "rejects the malformed entry %j with CONFIG_INVALID",
    (entry) => {
      let error: unknown;
      try {
        parseAllowList([entry]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe("CONFIG_INVALID");
    },
  );
});
