import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.ts";
import { createSafeFetch, type ResolvedAddress, type SafeLookup } from "../../src/net/safe-fetch.ts";
import { checkUrl } from "../../src/net/url-policy.ts";

// Every connection these tests make goes to 127.0.0.1; other resolutions are simulated by `lookup`.

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function startServer(handler: Handler): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

const stop = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** A resolver that answers from a fixed table and counts calls; unknown names fail like NXDOMAIN. */
function fakeDns(table: Record<string, string[]>): SafeLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const addresses = table[hostname.replace(/\.$/, "")]; // like a resolver: "a.example." is absolute "a.example"
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

async function expectForbidden(promise: Promise<unknown>, reason?: RegExp): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayError = error as GatewayError;
  expect(gatewayError.code).toBe("FORBIDDEN");
  expect(gatewayError.status).toBe(403);
  if (reason) expect(gatewayError.message).toMatch(reason);
  return gatewayError;
}

// URLs blocked before any DNS or connection, by checkUrl alone.
const BLOCKED_LITERALS: string[] = [
  "http://127.0.0.1/",
  "http://127.0.0.1:8080/admin",
  "https://127.255.255.254/",
  "http://2130706433/",
  "http://017700000001/",
  "http://0x7f000001/",
  "http://0177.0.0.1/",
  "http://0x7f.1/",
  "http://0x7f.0x0.0x0.0x1/",
  "http://127.1/",
  "http://127.0.1/",
  "http://127.0.0.1./",
  "http://0/",
  "http://0.0.0.0/",
  "http://0.0.0.0:3000/",
  "http://[::]/",
  "http://[::1]/",
  "http://[0:0:0:0:0:0:0:1]/",
  "http://[::ffff:127.0.0.1]/",
  "http://[::ffff:7f00:1]/",
  "http://[0:0:0:0:0:ffff:127.0.0.1]/",
  "http://[::127.0.0.1]/",
  "http://[::ffff:0:127.0.0.1]/",
  "http://[64:ff9b::7f00:1]/",
  "http://[64:ff9b::10.0.0.1]/",
  "http://[2002:7f00:1::]/",
  "http://[2002:a9fe:a9fe::]/",
  "http://[2001::1]/",
  "http://[fe80::1]/",
  "http://[fe80::1%25eth0]/",
  "http://[fd00::1]/",
  "http://[fc00::1]/",
  "http://[fec0::1]/",
  "http://[ff02::1]/",
  "http://[fd00:ec2::254]/latest/meta-data/",
  "http://[2001:db8::1]/",
  "http://[::ffff:169.254.169.254]/",
  "http://10.0.0.1/",
  "http://10.255.255.255/",
  "http://172.16.0.1/",
  "http://172.31.255.254/",
  "http://192.168.0.1/",
  "http://192.168.1.1:8443/",
  "http://0300.0250.0.1/",
  "http://100.64.0.1/",
  "http://100.127.255.254/",
  "http://100.100.100.200/",
  "http://169.254.169.254/latest/meta-data/",
  "http://169.254.0.1/",
  "http://2852039166/",
  "https://168.63.129.16/",
  "http://224.0.0.1/",
  "http://239.255.255.250:1900/",
  "http://255.255.255.255/",
  "http://240.0.0.1/",
  "http://198.18.0.1/",
  "http://198.19.255.255/",
  "http://192.0.2.1/",
  "http://198.51.100.7/",
  "http://203.0.113.9/",
  "http://LOCALHOST/",
  "http://localhost./",
  "http://Foo.LocalHost/",
  "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
  "http://①②⑦.0.0.1/",
  "http://127。0。0。1/",
  "http://%31%32%37.0.0.1/",
  "HTTP://127.0.0.1/",
  "http:/\\127.0.0.1/",
  "http://user:pass@127.0.0.1/",
  "http://evil.com@127.0.0.1/",
  "http://127.0.0.1:80@evil.com/",
  "https://user@example.com/",
  "file:///etc/passwd",
  "gopher://127.0.0.1:6379/_INFO",
  "ftp://127.0.0.1/",
  "data:text/plain,hello",
  "javascript:alert(1)",
  "ws://127.0.0.1/",
  "wss://example.com/",
  "dict://127.0.0.1:11211/stats",
  "http://",
  "not a url",
];

// Hostnames that look harmless but resolve (through the injected lookup) to blocked addresses.
const DNS_TABLE: Record<string, string[]> = {
  "metadata.google.internal": ["169.254.169.254"],
  "metadata.azure.internal": ["::ffff:169.254.169.254"],
  "internal.example": ["10.0.0.1"],
  "mixed.example": ["93.184.215.14", "10.0.0.1"],
  "ula.example": ["fd00::1"],
  "loopback.example": ["127.0.0.1"],
  "mapped.example": ["::ffff:127.0.0.1"],
  "cgnat.example": ["100.64.1.1"],
  "docs.example.com": ["192.0.2.10"],
  "unspecified.example": ["0.0.0.0"],
};
const BLOCKED_BY_DNS: Array<[url: string, reason: RegExp]> = [
  ["http://metadata.google.internal/computeMetadata/v1/", /169\.254\.169\.254 \(cloud metadata/],
  ["http://metadata.azure.internal/", /metadata/],
  ["http://internal.example/", /10\.0\.0\.1 \(private/],
  ["http://mixed.example/", /10\.0\.0\.1/],
  ["http://ula.example/", /unique local/],
  ["http://loopback.example:8080/", /loopback/],
  ["http://LoopBack.Example./", /loopback/],
  ["http://mapped.example/", /IPv4-mapped/],
  ["http://cgnat.example/", /CGNAT/],
  ["https://docs.example.com/", /documentation range/],
  ["http://unspecified.example/", /this network/],
];

describe("checkUrl", () => {
  it.each(BLOCKED_LITERALS)("blocks %s", (url) => {
    expect(checkUrl(url).ok).toBe(false);
  });

  it("relies on the WHATWG parser to canonicalise numeric and IDN hosts", () => {
    const hosts = ["http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://127.0.0.1./"].map(
      (u) => checkUrl(u, { allow: ["127.0.0.1"] }),
    );
    for (const verdict of hosts) expect(verdict).toMatchObject({ ok: true, host: "127.0.0.1", address: "127.0.0.1" });
    expect(checkUrl("http://münchen.de/")).toMatchObject({ ok: true, host: "xn--mnchen-3ya.de" });
  });

  it("reads http://127.0.0.1:80@evil.com/ as host evil.com with userinfo, and refuses it for the userinfo", () => {
    expect(new URL("http://127.0.0.1:80@evil.com/").hostname).toBe("evil.com");
    expect(checkUrl("http://127.0.0.1:80@evil.com/")).toEqual({
      ok: false,
      host: "evil.com",
      reason: "credentials in the URL are not allowed",
    });
  });

  it("treats a zone id in an IPv6 URL as an invalid URL (Node's parser rejects it)", () => {
    expect(checkUrl("http://[fe80::1%25eth0]/")).toEqual({ ok: false, host: "", reason: "invalid URL" });
  });

  it("lets public hostnames and addresses through without DNS", () => {
    expect(checkUrl("https://example.com/a?b=c")).toMatchObject({ ok: true, host: "example.com", allowed: false });
    expect(checkUrl(new URL("http://8.8.8.8/"))).toMatchObject({ ok: true, address: "8.8.8.8" });
    expect(checkUrl("http://[2606:4700:4700::1111]/")).toMatchObject({ ok: true, address: "2606:4700:4700::1111" });
  });

  it("accepts allow-listed IPs, CIDRs (v4 and v6) and localhost names", () => {
    expect(checkUrl("http://10.1.2.3/", { allow: ["10.1.0.0/16"] }).ok).toBe(true);
    expect(checkUrl("http://10.2.0.1/", { allow: ["10.1.0.0/16"] }).ok).toBe(false);
    expect(checkUrl("http://[fd00::1]/", { allow: ["fd00::/8"] }).ok).toBe(true);
    expect(checkUrl("http://[::ffff:127.0.0.1]/", { allow: ["127.0.0.1"] }).ok).toBe(true);
    expect(checkUrl("http://localhost/", { allow: ["localhost"] }).ok).toBe(true);
  });

  it("still refuses credentials and non-http schemes for allow-listed hosts", () => {
    expect(checkUrl("http://a:b@127.0.0.1/", { allow: ["127.0.0.1"] }).ok).toBe(false);
    expect(checkUrl("ftp://127.0.0.1/", { allow: ["127.0.0.1"] }).ok).toBe(false);
  });
});

describe("createSafeFetch", () => {
  let local: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  const seen: IncomingMessage[] = [];

  beforeAll(async () => {
    local = await startServer((req, res, body) => {
      seen.push(req);
      const url = new URL(req.url ?? "/", "http://x");
      const redirect = (status: number, location: string): void => void res.writeHead(status, { location }).end();
      switch (url.pathname) {
        case "/ok":
          return void res.writeHead(200, { "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] }).end("ok");
        case "/echo":
          return void res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ method: req.method, headers: req.headers, body }));
        case "/to-ok":
          return redirect(302, "/ok");
        case "/to-echo":
          return redirect(307, "/echo");
        case "/see-other":
          return redirect(303, "/echo");
        case "/to-metadata":
          return redirect(302, "http://169.254.169.254/latest/meta-data/");
        case "/to-private":
          return redirect(301, "http://10.0.0.1/");
        case "/to-private-name":
          return redirect(302, "http://internal.example/");
        case "/to-file":
          return redirect(302, "file:///etc/passwd");
        case "/to-userinfo":
          return redirect(302, `http://user:pass@127.0.0.1:${url.port || (local.server.address() as AddressInfo).port}/ok`);
        case "/to-other":
          return redirect(302, `${other.origin}/echo`);
        case "/hang":
          return; // never answers: exercises the timeout
        default: {
          const loop = /^\/loop\/(\d+)$/.exec(url.pathname);
          if (loop) return redirect(302, `/loop/${Number(loop[1]) + 1}`);
          return void res.writeHead(404).end();
        }
      }
    });
    other = await startServer((req, res, body) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ headers: req.headers, body }));
    });
  });

  afterAll(async () => {
    await stop(local.server);
    await stop(other.server);
  });

  describe("blocks by default", () => {
    const safeFetch = createSafeFetch({ lookup: fakeDns(DNS_TABLE), timeoutMs: 2000 });

    it.each(BLOCKED_LITERALS)("refuses %s before connecting", async (url) => {
      expect(checkUrl(url).ok).toBe(false);
      await expectForbidden(safeFetch(url));
    });

    it.each(BLOCKED_BY_DNS)("refuses %s after resolving it", async (url, reason) => {
      await expectForbidden(safeFetch(url), reason);
    });

    it("refuses a public-looking name resolved to a TEST-NET address (documentation range)", async () => {
      const lookup = fakeDns({ "api.partner.example": ["198.51.100.20"] });
      const error = await expectForbidden(createSafeFetch({ lookup })("https://api.partner.example/v1"));
      expect(error.message).toBe(
        'Outbound request to "api.partner.example" blocked: resolves to 198.51.100.20 (documentation range (TEST-NET-2))',
      );
      expect(error.toJSON()).toEqual({
        code: "FORBIDDEN",
        message: error.message,
        data: { host: "api.partner.example", reason: "resolves to 198.51.100.20 (documentation range (TEST-NET-2))" },
      });
    });

    it("never echoes URL credentials in the error", async () => {
      const error = await expectForbidden(safeFetch("http://admin:s3cr3t@10.0.0.1/"));
      expect(error.message).not.toMatch(/s3cr3t|admin/);
      expect(JSON.stringify(error.toJSON())).not.toMatch(/s3cr3t|admin/);
    });
  });

  describe("redirects from an allow-listed local server", () => {
    const lookup = fakeDns(DNS_TABLE);
    const safeFetch = createSafeFetch({ allow: ["127.0.0.1"], lookup, maxRedirects: 3, timeoutMs: 5000 });

    it.each([
      ["/to-metadata", /"169\.254\.169\.254" blocked: cloud metadata/],
      ["/to-private", /"10\.0\.0\.1" blocked: private network/],
      ["/to-private-name", /"internal\.example" blocked: resolves to 10\.0\.0\.1/],
      ["/to-file", /scheme "file:"/],
      ["/to-userinfo", /credentials/],
      ["/loop/0", /more than 3 redirects/],
    ])("re-checks every hop and refuses the redirect %s", async (path, reason) => {
      await expectForbidden(safeFetch(`${local.origin}${path}`), reason);
    });

    it("follows exactly maxRedirects hops", async () => {
      const res = await createSafeFetch({ allow: ["127.0.0.1"], maxRedirects: 2 })(`${local.origin}/to-ok`);
      expect(res.status).toBe(200);
      await expectForbidden(createSafeFetch({ allow: ["127.0.0.1"], maxRedirects: 0 })(`${local.origin}/to-ok`), /more than 0/);
    });

    it("follows a redirect to another allowed local path and returns a web Response", async () => {
      const res = await safeFetch(`${local.origin}/to-ok`);
      expect(res).toBeInstanceOf(Response);
      expect(res.status).toBe(200);
      expect(res.url).toBe(`${local.origin}/ok`);
      expect(res.headers.get("content-type")).toBe("text/plain");
      expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
      expect(await res.text()).toBe("ok");
    });

    it("returns the 3xx itself with redirect: manual", async () => {
      const res = await safeFetch(`${local.origin}/to-metadata`, { redirect: "manual" });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("http://169.254.169.254/latest/meta-data/");
    });

    it("keeps credentials on same-origin hops and strips them on cross-origin hops", async () => {
      const headers = { authorization: "Bearer t", cookie: "sid=1", "x-trace": "abc" };
      const same = (await (await safeFetch(`${local.origin}/to-echo`, { headers })).json()) as { headers: Record<string, string> };
      expect(same.headers).toMatchObject({ authorization: "Bearer t", cookie: "sid=1", "x-trace": "abc" });
      const cross = (await (await safeFetch(`${local.origin}/to-other`, { headers })).json()) as { headers: Record<string, string> };
      expect(cross.headers.authorization).toBeUndefined();
      expect(cross.headers.cookie).toBeUndefined();
      expect(cross.headers["x-trace"]).toBe("abc");
    });

    it("resends the body on 307 and switches to GET without a body on 303", async () => {
      const kept = (await (await safeFetch(`${local.origin}/to-echo`, { method: "POST", body: "payload" })).json()) as {
        method: string;
        body: string;
        headers: Record<string, string>;
      };
      expect(kept).toMatchObject({ method: "POST", body: "payload" });
      expect(kept.headers["content-type"]).toBe("text/plain;charset=UTF-8");
      const switched = (await (await safeFetch(`${local.origin}/see-other`, { method: "POST", body: "payload" })).json()) as {
        method: string;
        body: string;
        headers: Record<string, string>;
      };
      expect(switched).toMatchObject({ method: "GET", body: "" });
      expect(switched.headers["content-type"]).toBeUndefined();
    });

    it("returns a null body for HEAD", async () => {
      const res = await safeFetch(`${local.origin}/ok`, { method: "head" });
      expect(res.status).toBe(200);
      expect(res.body).toBeNull();
    });
  });

  describe("allow-list", () => {
    it("lets 127.0.0.1 through only when allow-listed", async () => {
      await expectForbidden(createSafeFetch()(`${local.origin}/ok`), /loopback/);
      const res = await createSafeFetch({ allow: ["127.0.0.1"] })(`${local.origin}/ok`);
      expect(await res.text()).toBe("ok");
    });

    it("accepts a CIDR entry for resolved addresses", async () => {
      const lookup = fakeDns({ "svc.internal": ["127.0.0.1"] });
      const port = new URL(local.origin).port;
      await expectForbidden(createSafeFetch({ lookup })(`http://svc.internal:${port}/ok`), /loopback/);
      const res = await createSafeFetch({ allow: ["127.0.0.0/8"], lookup })(`http://svc.internal:${port}/ok`);
      expect(await res.text()).toBe("ok");
    });

    it("accepts exact and *.domain hostname entries and keeps the original Host header", async () => {
      const lookup = fakeDns({ "api.internal": ["127.0.0.1"], "a.svc.internal": ["127.0.0.1"], "svc.internal": ["127.0.0.1"] });
      const safeFetch = createSafeFetch({ allow: ["API.internal", "*.svc.internal"], lookup });
      const port = new URL(local.origin).port;
      const exact = (await (await safeFetch(`http://Api.Internal.:${port}/echo`)).json()) as { headers: Record<string, string> };
      expect(exact.headers.host).toBe(`api.internal.:${port}`);
      const wildcard = (await (await safeFetch(`http://a.svc.internal:${port}/echo`)).json()) as { headers: Record<string, string> };
      expect(wildcard.headers.host).toBe(`a.svc.internal:${port}`);
      await expectForbidden(safeFetch(`http://svc.internal:${port}/echo`), /loopback/);
    });
  });

  describe("DNS pinning", () => {
    it("connects to the address it checked and never resolves the name a second time", async () => {
      let calls = 0;
      // A rebinding resolver: the first answer passes the check, any later answer would not.
      const lookup: SafeLookup = async () => {
        calls += 1;
        if (calls === 1) return [{ address: "127.0.0.1", family: 4 }];
        throw new Error("second resolution");
      };
      const port = new URL(local.origin).port;
      const safeFetch = createSafeFetch({ allow: ["127.0.0.1"], lookup });
      // rebind.test is not resolvable by the system resolver, so success proves the pinned address was used.
      const echoed = (await (await safeFetch(`http://rebind.test:${port}/echo`)).json()) as { headers: Record<string, string> };
      expect(echoed.headers.host).toBe(`rebind.test:${port}`);
      expect(calls).toBe(1);
    });

    it("refuses the request when any answer is blocked, even if the first one is public", async () => {
      const lookup = fakeDns({ "rebind.example": ["93.184.215.14", "127.0.0.1"] });
      await expectForbidden(createSafeFetch({ lookup })("http://rebind.example/"), /127\.0\.0\.1 \(loopback\)/);
      expect(lookup.calls).toEqual(["rebind.example"]);
    });

    it("reports a failed lookup as UPSTREAM_UNAVAILABLE without connecting", async () => {
      const error = await createSafeFetch({ lookup: fakeDns({}) })("http://nowhere.example/").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", status: 502 });
    });
  });

  it("gives up with UPSTREAM_TIMEOUT after timeoutMs", async () => {
    const error = await createSafeFetch({ allow: ["127.0.0.1"], timeoutMs: 200 })(`${local.origin}/hang`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UPSTREAM_TIMEOUT", status: 504 });
  });
});
