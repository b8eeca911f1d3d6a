import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { classifyAddress, parseAllowList, type AllowList } from "./address-policy.ts";
import { blockedRequestError, checkUrl, type UrlVerdict } from "./url-policy.ts";

/** One resolved address, as `dns.lookup(host, { all: true })` returns it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves every address of a hostname; injectable for tests. */
export type SafeLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Options of `createSafeFetch`. */
export interface SafeFetchOptions {
  /** Hostnames (`*.domain` allowed), IPs and CIDRs that may be reached despite the address policy. */
  allow?: readonly string[];
  /** Redirect hops followed before giving up; default 5. */
  maxRedirects?: number;
  /** Bound on the whole exchange, body included; default 30 000 ms. */
  timeoutMs?: number;
  /** DNS resolver; default `dns.lookup` with `all: true`. */
  lookup?: SafeLookup;
}

/** A fetch-shaped function that refuses SSRF targets. */
export type SafeFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([204, 205, 304]);
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
const STANDARD_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

const defaultLookup: SafeLookup = (hostname) => dnsLookup(hostname, { all: true });

/**
 * Creates a fetch built on `node:http(s)` that resolves DNS once, rejects the request if any
 * resolved address is special-purpose and not allow-listed, connects to exactly the checked
 * address (no second resolution, so no DNS rebinding) and re-checks every redirect hop.
 * Refusals throw a `FORBIDDEN` GatewayError (403). Bodies are not decompressed.
 */
export function createSafeFetch(options: SafeFetchOptions = {}): SafeFetch {
  const allow = parseAllowList(options.allow);
  const maxRedirects = options.maxRedirects ?? 5;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const lookup = options.lookup ?? defaultLookup;

  return async function safeFetch(input, init = {}) {
    const upper = (init.method ?? "GET").toUpperCase();
    let method = STANDARD_METHODS.has(upper) ? upper : (init.method ?? "GET");
    const headers = new Headers(init.headers);
    let body: Uint8Array | undefined;
    if (init.body != null) {
      // Response extracts a BodyInit exactly like fetch does; buffering lets 307/308 resend it.
      const extracted = new Response(init.body);
      body = new Uint8Array(await extracted.arrayBuffer());
      const type = extracted.headers.get("content-type");
      if (type && !headers.has("content-type")) headers.set("content-type", type);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;

    let url: URL | string = input instanceof URL ? input.href : input;
    for (let hops = 0; ; hops++) {
      const verdict = checkUrl(url, { allow });
      if (!verdict.ok) throw blockedRequestError(verdict.host, verdict.reason);
      const target = await resolveTarget(verdict, allow, lookup);
      const res = await send(verdict.url, target, method, headers, body, signal, timeout);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!REDIRECTS.has(status) || !location || init.redirect === "manual") {
        return toResponse(res, method, verdict.url, signal);
      }
      res.resume();
      if (init.redirect === "error") {
        throw new GatewayError("UPSTREAM_ERROR", `Unexpected redirect from "${verdict.host}"`, { status: 502 });
      }
      if (hops >= maxRedirects) {
        throw blockedRequestError(verdict.host, `more than ${maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, verdict.url);
      } catch {
        throw blockedRequestError(verdict.host, "invalid redirect location");
      }
      if ((status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
        for (const name of BODY_HEADERS) headers.delete(name);
      }
      if (next.origin !== verdict.url.origin) {
        for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      }
      url = next.href;
    }
  };
}

async function resolveTarget(verdict: UrlVerdict & { ok: true }, allow: AllowList, lookup: SafeLookup): Promise<ResolvedAddress> {
  if (verdict.address) return { address: verdict.address, family: isIP(verdict.address) };
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = await lookup(verdict.url.hostname);
  } catch (cause) {
    throw new GatewayError("UPSTREAM_UNAVAILABLE", `DNS lookup failed for "${verdict.host}"`, {
      status: 502,
      rpcCode: JsonRpcCode.UpstreamError,
      cause,
    });
  }
  const first = addresses[0];
  if (!first) throw blockedRequestError(verdict.host, "DNS returned no addresses");
  if (!verdict.allowed) {
    for (const { address } of addresses) {
      if (allow.hasAddress(address)) continue;
      const c = classifyAddress(address);
      if (c.blocked) throw blockedRequestError(verdict.host, `resolves to ${address} (${c.reason})`);
    }
  }
  return first;
}

function send(
  url: URL,
  target: ResolvedAddress,
  method: string,
  headers: Headers,
  body: Uint8Array | undefined,
  signal: AbortSignal,
  timeout: AbortSignal,
): Promise<IncomingMessage> {
  // Whatever Node asks for, it gets the address that was checked: no second resolution.
  const pinned: LookupFunction = (_hostname, opts, callback) => {
    if (opts.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const outgoing: Record<string, string> = Object.fromEntries(headers);
  outgoing.host = url.host;
  if (body) outgoing["content-length"] = String(body.byteLength);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const options: RequestOptions & { servername?: string } = {
    method,
    host,
    port: url.port || undefined,
    path: url.pathname + url.search,
    headers: outgoing,
    lookup: pinned,
    agent: false,
    signal,
    ...(url.protocol === "https:" && !isIP(host) ? { servername: host } : {}),
  };
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(options, resolve);
    req.once("error", (err) => {
      if (timeout.aborted) {
        reject(new GatewayError("UPSTREAM_TIMEOUT", `Request to "${host}" timed out`, { status: 504, cause: err }));
      } else reject(err);
    });
    req.end(body);
  });
}

function toResponse(res: IncomingMessage, method: string, url: URL, signal: AbortSignal): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) {
    res.destroy();
    throw new GatewayError("UPSTREAM_ERROR", `Unsupported status ${status} from "${url.hostname}"`, { status: 502 });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const empty = method === "HEAD" || NULL_BODY.has(status);
  if (empty) res.resume();
  else {
    const onAbort = (): void => void res.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    res.once("close", () => signal.removeEventListener("abort", onAbort));
  }
  const body = empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  const response = new Response(body, { status, statusText: res.statusMessage ?? "", headers });
  Object.defineProperty(response, "url", { value: url.href });
  return response;
}

/**
 * Check a URL the way a safe fetch would, without sending anything: scheme, literal addresses, and every
 * address its host resolves to. For outbound URLs whose connection another client makes (run-time MCP upstreams).
 */
export async function assertOutboundUrl(input: string, options: { allow?: readonly string[]; lookup?: SafeLookup } = {}): Promise<void> {
  const allow = parseAllowList(options.allow);
  const verdict = checkUrl(input, { allow });
  if (!verdict.ok) throw blockedRequestError(verdict.host, verdict.reason);
  await resolveTarget(verdict, allow, options.lookup ?? defaultLookup);
}
