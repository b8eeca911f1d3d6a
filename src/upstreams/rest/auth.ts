import { GatewayError, JsonRpcCode } from "../../errors.ts";
import type { SafeFetch } from "../../net/safe-fetch.ts";
import type { RestAuth } from "./types.ts";

/** Refresh an OAuth2 token this long before it expires (or at half its lifetime, if that is shorter). */
const REFRESH_SKEW_MS = 30_000;
/** Lifetime assumed when the token endpoint sends no `expires_in`. */
const DEFAULT_TOKEN_TTL_MS = 3_600_000;

/** Applies one API's credentials to outgoing requests. */
export interface RestAuthenticator {
  /** Add credentials to a request (headers or query). May fetch an OAuth2 token first. */
  apply(url: URL, headers: Headers, signal?: AbortSignal): Promise<void>;
  /** The API rejected our token (401): drop the cached one so the next attempt fetches a new one. */
  invalidate(): void;
  /** Whether `invalidate()` can help (a cached token that may have been revoked). */
  readonly refreshable: boolean;
  /** Every secret value in play right now, to mask in errors and logs. */
  secrets(): string[];
  /** OAuth2 token requests made so far (observability). */
  readonly tokenRequests: number;
}

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

/** Build the authenticator of an API; `fetch` is the SSRF-guarded fetch (used for the OAuth2 token endpoint). */
export function createAuthenticator(auth: RestAuth | undefined, fetch: SafeFetch): RestAuthenticator {
  const fixed = (apply: (url: URL, headers: Headers) => void, secrets: string[]): RestAuthenticator => ({
    apply: async (url, headers) => apply(url, headers),
    invalidate: () => {},
    refreshable: false,
    secrets: () => secrets,
    tokenRequests: 0,
  });
  switch (auth?.type) {
    case undefined:
      return fixed(() => {}, []);
    case "bearer":
      return fixed((_, h) => h.set("authorization", `Bearer ${auth.token}`), [auth.token]);
    case "basic": {
      const encoded = basic(auth.username, auth.password);
      return fixed((_, h) => h.set("authorization", `Basic ${encoded}`), [auth.password, encoded]);
    }
    case "apiKey":
      return fixed(
        (url, h) => (auth.in === "header" ? h.set(auth.name, auth.value) : url.searchParams.set(auth.name, auth.value)),
        [auth.value, encodeURIComponent(auth.value)],
      );
    case "headers":
      return fixed((_, h) => {
        for (const [name, value] of Object.entries(auth.headers)) h.set(name, value);
      }, Object.values(auth.headers));
    case "oauth2":
      return oauth2(auth, fetch);
  }
}

/** Client-credentials grant: one cached token, refreshed before expiry; concurrent callers share one request. */
function oauth2(auth: Extract<RestAuth, { type: "oauth2" }>, fetch: SafeFetch): RestAuthenticator {
  let token: { value: string; refreshAt: number } | undefined;
  /** The token before the current one: an API may still echo it. */
  let previous: string | undefined;
  let pending: Promise<string> | undefined;
  let requests = 0;
  const fixedSecrets = [auth.clientSecret, basic(auth.clientId, auth.clientSecret), encodeURIComponent(auth.clientSecret)];

  const fetchToken = async (): Promise<string> => {
    requests++;
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (auth.scope) form.set("scope", auth.scope);
    if (auth.audience) form.set("audience", auth.audience);
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/x-www-form-urlencoded" };
    if (auth.clientAuth === "basic") headers.authorization = `Basic ${basic(auth.clientId, auth.clientSecret)}`;
    else {
      form.set("client_id", auth.clientId);
      form.set("client_secret", auth.clientSecret);
    }
    const host = new URL(auth.tokenUrl).host;
    let response: Response;
    try {
      response = await fetch(auth.tokenUrl, { method: "POST", headers, body: form.toString(), signal: AbortSignal.timeout(30_000) });
    } catch (cause) {
      throw tokenError(`OAuth2 token request to ${host} failed: ${cause instanceof GatewayError ? cause.message : "network error"}`, cause);
    }
    const body = (await response.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (!response.ok) throw tokenError(`OAuth2 token request to ${host} failed with HTTP ${response.status}`);
    if (typeof body?.access_token !== "string" || !body.access_token) throw tokenError(`OAuth2 token response from ${host} has no access_token`);
    const ttl = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in * 1000 : DEFAULT_TOKEN_TTL_MS;
    previous = token?.value ?? previous;
    token = { value: body.access_token, refreshAt: Date.now() + ttl - Math.min(REFRESH_SKEW_MS, ttl / 2) };
    return body.access_token;
  };

  const current = (): Promise<string> => {
    if (token && Date.now() < token.refreshAt) return Promise.resolve(token.value);
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    async apply(_url, headers) {
      headers.set("authorization", `Bearer ${await current()}`);
    },
    invalidate() {
      previous = token?.value ?? previous;
      token = undefined;
    },
    refreshable: true,
    secrets: () => [...fixedSecrets, ...[token?.value, previous].filter((t): t is string => !!t)],
    get tokenRequests() {
      return requests;
    },
  };
}

function tokenError(message: string, cause?: unknown): GatewayError {
  return new GatewayError("UPSTREAM_UNAVAILABLE", message, { status: 502, rpcCode: JsonRpcCode.UpstreamError, cause });
}
