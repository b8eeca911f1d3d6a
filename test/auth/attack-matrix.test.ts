import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { startJwksServer, type JwksServer } from "./_jwks-server.ts";

/**
 * JWT attack matrix over real HTTP: every forged, stale or malformed token gets a 401 (never a 5xx, never a crash),
 * the challenge never echoes the token, and the gateway serves the next valid request.
 */
const ISS = "https://issuer.test";
const AUD = "https://gw.test/";
const KID = "key-1";
const now = () => Math.floor(Date.now() / 1000);
const enc = (value: unknown) => base64url.encode(JSON.stringify(value));

let jwks: JwksServer;
let privateKey: CryptoKey;
let publicJwk: JWK;
let publicPem: string;
let otherKey: CryptoKey;
let gw: Gateway;
let url: string;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  publicPem = await exportSPKI(pair.publicKey);
  otherKey = (await generateKeyPair("RS256")).privateKey;
  jwks = await startJwksServer([publicJwk]);
  gw = await createGateway({
    log: { level: "silent" },
    auth: { jwt: { jwksUrl: jwks.url, issuer: ISS, audience: AUD, algorithms: ["RS256"], clockToleranceSec: 30, jwksTimeoutMs: 500 } },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  await jwks?.close();
});

const claims = (overrides: Record<string, unknown> = {}) => ({ sub: "alice", iss: ISS, aud: AUD, iat: now(), exp: now() + 300, ...overrides });
const signRs = (payload: Record<string, unknown>, key: CryptoKey = privateKey, header: Record<string, unknown> = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: KID, ...header }).sign(key);

function initialize(token: string | undefined, base = url): Promise<Response> {
  return fetch(`${base}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "attack", version: "1" } } }),
  });
}

/** 401 with a JSON-RPC body and a Bearer challenge; neither quotes any part of the token. */
async function expectRefused(token: string, base = url): Promise<string> {
  const response = await initialize(token, base);
  const body = await response.text();
  expect(response.status, body).toBe(401);
  const challenge = response.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer error="invalid_token"/);
  for (const part of token.split(".")) {
    if (part.length > 8) {
      expect(body).not.toContain(part);
      expect(challenge).not.toContain(part);
    }
  }
  expect(JSON.parse(body)).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number) } });
  return challenge;
}

async function expectServed(base = url): Promise<void> {
  const response = await initialize(await signRs(claims()), base);
  expect(response.status).toBe(200);
  await response.body?.cancel();
}

const cases: [string, () => Promise<string>][] = [
  ["alg none (unsigned)", async () => `${enc({ alg: "none", typ: "JWT" })}.${enc(claims())}.`],
  ["alg none with a signature", async () => `${enc({ alg: "none" })}.${enc(claims())}.${base64url.encode("sig")}`],
  ["alg NONE casing", async () => `${enc({ alg: "NoNe" })}.${enc(claims())}.`],
  ["HS256 signed with the RSA public key PEM as HMAC secret (confusion)", () =>
    new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: KID }).sign(new TextEncoder().encode(publicPem))],
  ["HS256 signed with the JWK JSON as secret", async () => new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: KID }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)))],
  ["signed by another key reusing the trusted kid", () => signRs(claims(), otherKey)],
  ["embedded jwk header with the attacker's key", async () => {
    const attacker = await generateKeyPair("RS256", { extractable: true });
    return signRs(claims(), attacker.privateKey, { jwk: await exportJWK(attacker.publicKey) });
  }],
  ["jku header pointing at another key set", () => signRs(claims(), otherKey, { jku: "http://127.0.0.1:1/jwks.json" })],
  ["expired 5 minutes ago", () => signRs(claims({ exp: now() - 300 }))],
  ["no exp claim", () => signRs({ sub: "alice", iss: ISS, aud: AUD })],
  ["not yet valid (nbf in 10 minutes)", () => signRs(claims({ nbf: now() + 600 }))],
  ["wrong issuer", () => signRs(claims({ iss: "https://evil.test" }))],
  ["wrong audience", () => signRs(claims({ aud: "https://other.test/" }))],
  ["no subject", () => signRs(claims({ sub: undefined }))],
  ["kid path traversal", () => signRs(claims(), privateKey, { kid: "../../../../etc/passwd" })],
  ["kid SQL injection", () => signRs(claims(), privateKey, { kid: "' OR '1'='1" })],
  ["kid of 10 000 characters", () => signRs(claims(), privateKey, { kid: "k".repeat(10_000) })],
  ["kid as an object", async () => `${enc({ alg: "RS256", kid: { $ne: null } })}.${enc(claims())}.${base64url.encode("x".repeat(256))}`],
  ["oversized token (~12 KB, over maxTokenBytes)", () => signRs(claims({ pad: "x".repeat(9 * 1024) }))],
  ["malformed: one segment", async () => "abcdefghijklmnop"],
  ["malformed: four segments", async () => `${(await signRs(claims()))}.extra`],
  ["malformed: header is not JSON", async () => `${base64url.encode("not json at all")}.${enc(claims())}.c2ln`],
  ["malformed: header is a JSON array", async () => `${enc(["RS256"])}.${enc(claims())}.c2ln`],
  ["malformed: invalid base64 characters", async () => "eyJhbGciOiJSUzI1NiJ9$.e30.c2ln"],
  ["malformed: payload is not JSON", async () => `${enc({ alg: "RS256", kid: KID })}.${base64url.encode("{nope")}.c2ln`],
  ["malformed: header not valid UTF-8", async () => `${base64url.encode(new Uint8Array([0xff, 0xfe, 0xfd]))}.e30.c2ln`],
  ["truncated signature", async () => (await signRs(claims())).slice(0, -20)],
];

describe("JWT attack matrix (RS256 via JWKS, over HTTP)", () => {
  it.each(cases)("refuses %s with 401, and serves the next valid request", async (_name, make) => {
    await expectRefused(await make());
    await expectServed();
  });

  it("answers a missing or non-Bearer credential with 401 and a plain challenge", async () => {
    const response = await initialize(undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    await expectServed();
  });

  it("refuses a 64 KiB token at the HTTP layer (431) and keeps serving", async () => {
    const response = await initialize(await signRs(claims({ pad: "x".repeat(64 * 1024) })));
    expect(response.status).toBe(431);
    await expectServed();
  });

  it("survives a burst of 200 mixed forged tokens without a 5xx", async () => {
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => cases[i % cases.length]![1]()));
    const statuses = await Promise.all(tokens.map(async (token) => (await initialize(token)).status));
    expect(new Set(statuses)).toEqual(new Set([401]));
    await expectServed();
  });
});

describe("JWT attack matrix: JWKS endpoint down", () => {
  it.each(["error", "hang"] as const)("answers 401 when the key set endpoint is %s, and recovers when it serves keys", async (mode) => {
    const down = await startJwksServer([publicJwk]);
    down.setMode(mode);
    const gateway = await createGateway({
      log: { level: "silent" },
      auth: { jwt: { jwksUrl: down.url, issuer: ISS, audience: AUD, algorithms: ["RS256"], jwksTimeoutMs: 300, jwksCooldownMs: 0 } },
    });
    const { url: base } = await gateway.listen({ port: 0 });
    try {
      const started = Date.now();
      const challenge = await expectRefused(await signRs(claims()), base);
      expect(challenge).toContain("signing keys are unavailable");
      expect(Date.now() - started).toBeLessThan(3000);
      down.setMode("serve");
      await expectServed(base);
    } finally {
      await gateway.close();
      await down.close();
    }
  });
});
