import { CompactSign, SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GatewayConfigError } from "../../src/errors.ts";
import { jwtProvider, type JwtProviderOptions } from "../../src/auth/jwt.ts";
import { mintToken } from "../../src/auth/token.ts";
import type { AuthFailureReason, AuthResult } from "../../src/auth/types.ts";
import { startJwksServer, type JwksServer } from "./_jwks-server.ts";

const SECRET = "s".repeat(64);
const ISS = "https://issuer.test";
const AUD = "mcp-gateway";
const now = () => Math.floor(Date.now() / 1000);
const enc = (value: unknown) => base64url.encode(typeof value === "string" ? value : JSON.stringify(value));

function request(token?: string, scheme = "Bearer"): Request {
  return new Request("http://gateway.test/mcp", token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } });
}

function hsProvider(extra: Partial<JwtProviderOptions> = {}) {
  return jwtProvider({ secret: SECRET, issuer: ISS, audience: AUD, algorithms: ["HS256"], ...extra });
}

function claims(overrides: Record<string, unknown> = {}) {
  return { sub: "alice", iss: ISS, aud: AUD, iat: now(), exp: now() + 300, ...overrides };
}

async function signHs(payload: Record<string, unknown>, alg = "HS256", secret: string | Uint8Array = SECRET, header = {}) {
  const key = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  return new SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(key);
}

/** Asserts a typed failure whose message and serialised form never contain the token or its parts. */
function expectFailure(result: AuthResult, reason: AuthFailureReason, token: string): string {
  expect(result.ok).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.reason).toBe(reason);
  const serialised = JSON.stringify(result);
  expect(serialised).not.toContain(token);
  for (const part of token.split(".")) if (part.length > 8) expect(serialised).not.toContain(part);
  return result.message;
}

describe("jwtProvider (HS*)", () => {
  it.each(["HS256", "HS384", "HS512"] as const)("accepts a valid %s token minted by mintToken", async (alg) => {
    const provider = hsProvider({ algorithms: [alg] });
    const token = await mintToken({ secret: SECRET, sub: "alice", aud: AUD, iss: ISS, expiresIn: "5m", scope: ["tools:call", "tools:list"], alg });
    const result = await provider.authenticate(request(token));
    expect(result).toMatchObject({ ok: true, identity: { subject: "alice", scopes: ["tools:call", "tools:list"], provider: "jwt" } });
    if (result.ok) expect(Object.isFrozen(result.identity.claims)).toBe(true);
  });

  it("rejects a request without an Authorization header as missing", async () => {
    const result = await hsProvider().authenticate(request());
    expect(result).toEqual({ ok: false, reason: "missing", message: "missing bearer token" });
  });

  it("rejects a non-Bearer scheme and ignores tokens in the query string as missing", async () => {
    const token = await signHs(claims());
    expectFailure(await hsProvider().authenticate(request(token, "Basic")), "missing", token);
    const viaQuery = new Request(`http://gateway.test/mcp?access_token=${token}`);
    expectFailure(await hsProvider().authenticate(viaQuery), "missing", token);
  });

  const matrix: Array<[string, () => Promise<string>, AuthFailureReason, RegExp]> = [
    ["alg none (unsigned)", async () => `${enc({ alg: "none", typ: "JWT" })}.${enc(claims())}.`, "invalid", /algorithm/],
    ["alg NONE with a signature", async () => `${enc({ alg: "NONE" })}.${enc(claims())}.c2ln`, "invalid", /algorithm/],
    ["an alg outside the allow-list (HS512 vs HS256)", () => signHs(claims(), "HS512"), "invalid", /algorithm/],
    ["a wrong secret", () => signHs(claims(), "HS256", "x".repeat(64)), "invalid", /signature/],
    ["a tampered payload", async () => {
      const [h, , s] = (await signHs(claims())).split(".");
      return `${h}.${enc(claims({ sub: "admin" }))}.${s}`;
    }, "invalid", /signature/],
    ["an expired token", () => signHs(claims({ exp: now() - 3600 })), "expired", /expired/],
    ["a not-yet-valid token (nbf)", () => signHs(claims({ nbf: now() + 3600 })), "invalid", /not yet valid/],
    ["a wrong issuer", () => signHs(claims({ iss: "https://evil.test" })), "invalid", /issuer/],
    ["a wrong audience", () => signHs(claims({ aud: "other-service" })), "invalid", /audience/],
    ["a missing exp", () => signHs(claims({ exp: undefined })), "invalid", /exp/],
    ["a non-numeric exp", () => signHs(claims({ exp: "tomorrow" })), "invalid", /exp/],
    ["a missing sub", () => signHs(claims({ sub: undefined })), "invalid", /sub/],
    ["an oversized token", () => signHs(claims({ pad: "a".repeat(9000) })), "invalid", /too large/],
    ["two segments", async () => `${enc({ alg: "HS256" })}.${enc(claims())}`, "invalid", /malformed/],
    ["bad base64 characters", async () => `${enc({ alg: "HS256" })}.${enc(claims())}.ab*cd`, "invalid", /malformed/],
    ["a non-JSON header", async () => `${enc("not json")}.${enc(claims())}.c2ln`, "invalid", /header is malformed/],
    ["an array header", async () => `${enc([{ alg: "HS256" }])}.${enc(claims())}.c2ln`, "invalid", /header is malformed/],
    ["a header without alg", async () => `${enc({ typ: "JWT" })}.${enc(claims())}.c2ln`, "invalid", /header is malformed/],
    ["a correctly signed non-object payload", async () =>
      new CompactSign(new TextEncoder().encode("[1,2,3]")).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET)),
    "invalid", /malformed/],
    ["a correctly signed non-JSON payload", async () =>
      new CompactSign(new TextEncoder().encode("hello")).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET)),
    "invalid", /malformed/],
  ];

  it.each(matrix)("rejects %s", async (_name, makeToken, reason, message) => {
    const token = await makeToken();
    expect(expectFailure(await hsProvider().authenticate(request(token)), reason, token)).toMatch(message);
  });

  it("accepts a token expired 10 s ago within the 30 s clock tolerance, and rejects one expired 60 s ago", async () => {
    const provider = hsProvider();
    expect((await provider.authenticate(request(await signHs(claims({ exp: now() - 10 }))))).ok).toBe(true);
    const late = await signHs(claims({ exp: now() - 60 }));
    expectFailure(await provider.authenticate(request(late)), "expired", late);
  });

  it("never writes to the console, on success or failure", async () => {
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => {}));
    try {
      const provider = hsProvider();
      await provider.authenticate(request(await signHs(claims())));
      for (const [, makeToken] of matrix) await provider.authenticate(request(await makeToken()));
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("honours a custom maxTokenBytes before parsing", async () => {
    const token = await signHs(claims());
    const result = await hsProvider({ maxTokenBytes: token.length - 1 }).authenticate(request(token));
    expect(expectFailure(result, "invalid", token)).toBe("token is too large");
    expect((await hsProvider({ maxTokenBytes: token.length }).authenticate(request(token))).ok).toBe(true);
  });
});

describe("jwtProvider scopes", () => {
  const scopesOf = async (extra: Record<string, unknown>, scopeClaim?: "scope" | "scp") => {
    const result = await hsProvider(scopeClaim ? { scopeClaim } : {}).authenticate(request(await signHs(claims(extra))));
    if (!result.ok) throw new Error(result.message);
    return result.identity.scopes;
  };

  it("splits a space-separated scope claim and drops duplicates and blanks", async () => {
    expect(await scopesOf({ scope: "  read  write read\tadmin " })).toEqual(["read", "write", "admin"]);
  });
  it("reads an scp array when there is no scope claim", async () => {
    expect(await scopesOf({ scp: ["read", 42, "write"] })).toEqual(["read", "write"]);
  });
  it("reads an scp string (Azure AD style)", async () => {
    expect(await scopesOf({ scp: "read write" })).toEqual(["read", "write"]);
  });
  it("uses only the configured scopeClaim", async () => {
    expect(await scopesOf({ scope: "a b", scp: ["c"] }, "scp")).toEqual(["c"]);
    expect(await scopesOf({ scp: ["c"] }, "scope")).toEqual([]);
  });
  it("returns no scopes when neither claim is present", async () => {
    expect(await scopesOf({})).toEqual([]);
  });
});

describe("jwtProvider config", () => {
  const base = { issuer: ISS, audience: AUD };
  it.each<[string, Partial<JwtProviderOptions>]>([
    ["mixed HS and RS algorithms", { secret: SECRET, algorithms: ["HS256", "RS256"] }],
    ["an empty allow-list", { secret: SECRET, algorithms: [] }],
    ["alg none in the allow-list", { secret: SECRET, algorithms: ["none"] }],
    ["both secret and jwksUrl", { secret: SECRET, jwksUrl: "https://idp.test/jwks", algorithms: ["HS256"] }],
    ["neither secret nor jwksUrl", { algorithms: ["HS256"] }],
    ["a secret with RS256", { secret: SECRET, algorithms: ["RS256"] }],
    ["a jwksUrl with HS256", { jwksUrl: "https://idp.test/jwks", algorithms: ["HS256"] }],
    ["a non-http jwksUrl", { jwksUrl: "file:///etc/jwks.json", algorithms: ["RS256"] }],
    ["a secret shorter than the hash", { secret: "short", algorithms: ["HS256"] }],
    ["a 32-byte secret for HS512", { secret: "k".repeat(32), algorithms: ["HS512"] }],
    ["a zero maxTokenBytes", { secret: SECRET, algorithms: ["HS256"], maxTokenBytes: 0 }],
    ["a negative clock tolerance", { secret: SECRET, algorithms: ["HS256"], clockToleranceSec: -1 }],
  ])("throws GatewayConfigError for %s", (_name, options) => {
    expect(() => jwtProvider({ ...base, algorithms: [], ...options } as JwtProviderOptions)).toThrow(GatewayConfigError);
  });

  it("throws GatewayConfigError without issuer or audience", () => {
    expect(() => jwtProvider({ secret: SECRET, algorithms: ["HS256"], issuer: "", audience: AUD })).toThrow(/issuer/);
    expect(() => jwtProvider({ secret: SECRET, algorithms: ["HS256"], issuer: ISS, audience: [] })).toThrow(/audience/);
  });
});

interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(alg: "RS256" | "ES256" | "EdDSA", kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function signWith(key: KeyPair, payload = claims(), header: Record<string, unknown> = {}) {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

describe("jwtProvider (JWKS)", () => {
  let server: JwksServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const jwksProvider = (url: string, extra: Partial<JwtProviderOptions> = {}) =>
    jwtProvider({ jwksUrl: url, issuer: ISS, audience: AUD, algorithms: ["RS256", "ES256", "EdDSA"], ...extra });

  it.each(["RS256", "ES256", "EdDSA"] as const)("accepts a %s token whose kid is in the key set", async (alg) => {
    const key = await makeKey(alg, `key-${alg}`);
    server = await startJwksServer([key.jwk]);
    const result = await jwksProvider(server.url).authenticate(request(await signWith(key)));
    expect(result).toMatchObject({ ok: true, identity: { subject: "alice" } });
  });

  it("rejects HS256 tokens signed with the RSA public key (algorithm confusion)", async () => {
    const key = await makeKey("RS256", "rsa-1");
    server = await startJwksServer([key.jwk]);
    const provider = jwksProvider(server.url, { algorithms: ["RS256"] });
    const pem = new TextEncoder().encode(await exportSPKI(key.publicKey));
    const jwkBytes = new TextEncoder().encode(JSON.stringify(key.jwk));
    for (const secret of [pem, jwkBytes]) {
      const token = await signHs(claims(), "HS256", secret, { kid: "rsa-1" });
      expect(expectFailure(await provider.authenticate(request(token)), "invalid", token)).toMatch(/algorithm/);
    }
    expect(server.requests).toEqual([]);
  });

  it("rejects a token signed by a different key that reuses a trusted kid", async () => {
    const trusted = await makeKey("RS256", "shared-kid");
    const attacker = await makeKey("RS256", "shared-kid");
    server = await startJwksServer([trusted.jwk]);
    const token = await signWith(attacker);
    expect(expectFailure(await jwksProvider(server.url).authenticate(request(token)), "invalid", token)).toMatch(/signature/);
  });

  it.each([
    ["path traversal", "../../../../etc/passwd"],
    ["SQL-ish", "1' OR '1'='1'; DROP TABLE keys;--"],
    ["URL", "https://evil.test/jwks.json"],
    ["very long", "k".repeat(5000)],
  ])("treats a %s kid as an unknown key and never uses it in a request", async (_name, kid) => {
    const key = await makeKey("RS256", "good");
    server = await startJwksServer([key.jwk]);
    const token = await signWith(key, claims(), { kid });
    const result = await jwksProvider(server.url, { jwksCooldownMs: 0, maxTokenBytes: 16_384 }).authenticate(request(token));
    expect(expectFailure(result, "invalid", token)).toBe("no signing key matches the token");
    for (const path of server.requests) expect(path).toBe("/.well-known/jwks.json");
  });

  it("validates a token with a rotated-in kid after refetching the key set", async () => {
    const oldKey = await makeKey("RS256", "2026-01");
    const newKey = await makeKey("ES256", "2026-02");
    server = await startJwksServer([oldKey.jwk]);
    const provider = jwksProvider(server.url, { jwksCooldownMs: 0 });
    expect((await provider.authenticate(request(await signWith(oldKey)))).ok).toBe(true);
    expect(server.requests).toHaveLength(1);

    server.setKeys([newKey.jwk]);
    expect((await provider.authenticate(request(await signWith(newKey)))).ok).toBe(true);
    expect(server.requests).toHaveLength(2);
    const retired = await signWith(oldKey);
    expectFailure(await provider.authenticate(request(retired)), "invalid", retired);
  });

  it("does not refetch for unknown kids during the cooldown", async () => {
    const key = await makeKey("RS256", "a");
    server = await startJwksServer([key.jwk]);
    const provider = jwksProvider(server.url, { jwksCooldownMs: 60_000 });
    expect((await provider.authenticate(request(await signWith(key)))).ok).toBe(true);
    for (let i = 0; i < 5; i++) {
      const token = await signWith(key, claims(), { kid: `unknown-${i}` });
      expectFailure(await provider.authenticate(request(token)), "invalid", token);
    }
    expect(server.requests).toHaveLength(1);
  });

  it("returns invalid within 2 s when the JWKS server is closed", async () => {
    const key = await makeKey("RS256", "a");
    server = await startJwksServer([key.jwk]);
    const url = server.url;
    await server.close();
    server = undefined;
    const token = await signWith(key);
    const started = performance.now();
    const result = await jwksProvider(url).authenticate(request(token));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(expectFailure(result, "invalid", token)).toMatch(/signing keys are unavailable/);
  });

  it("returns invalid after the fetch timeout when the JWKS server never answers", async () => {
    const key = await makeKey("RS256", "a");
    server = await startJwksServer([key.jwk]);
    server.setMode("hang");
    const token = await signWith(key);
    const started = performance.now();
    const result = await jwksProvider(server.url, { jwksTimeoutMs: 300 }).authenticate(request(token));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(expectFailure(result, "invalid", token)).toBe("signing keys are unavailable (key set fetch timed out)");
  });

  it("returns invalid when the JWKS endpoint answers 500, and recovers once it serves keys", async () => {
    const key = await makeKey("RS256", "a");
    server = await startJwksServer([key.jwk]);
    server.setMode("error");
    const provider = jwksProvider(server.url);
    const token = await signWith(key);
    expect(expectFailure(await provider.authenticate(request(token)), "invalid", token)).toMatch(/fetch failed/);
    server.setMode("serve");
    expect((await provider.authenticate(request(token))).ok).toBe(true);
  });
});
