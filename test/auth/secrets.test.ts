import { describe, expect, it } from "vitest";
import { createSecretBox, isSealed, secretBoxFromEnv } from "../../src/auth/secret-box.ts";
import { MASK, isSecretKey, maskSecrets, maskString } from "../../src/_utils/mask.ts";
import { GatewayError } from "../../src/errors.ts";

const key = (byte: number) => Buffer.alloc(32, byte);
const b64 = (byte: number) => key(byte).toString("base64");

describe("secret box (AES-256-GCM)", () => {
  it("seals to a tagged, non-deterministic value that opens to the plaintext", () => {
    const box = createSecretBox([{ kid: "k1", key: key(1) }]);
    const a = box.seal("ghp_canary_token");
    const b = box.seal("ghp_canary_token");
    expect(a).toMatch(/^gsb1:k1:[\w-]{16}:[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("canary");
    expect(isSealed(a)).toBe(true);
    expect(box.open(a)).toBe("ghp_canary_token");
    expect(box.open(box.seal(""))).toBe("");
    expect(box.open(box.seal("ünïcødé ✓"))).toBe("ünïcødé ✓");
  });

  it("refuses altered values, swapped key ids and unknown keys with an error that never contains the value", () => {
    const box = createSecretBox([{ kid: "k1", key: key(1) }, { kid: "k0", key: key(0) }]);
    const sealed = box.seal("top-secret-value");
    const [v, , iv, data] = sealed.split(":");
    // Change the second-to-last character (always a full 6 data bits) to a different one.
    const flipped = `${v}:k1:${iv}:${data!.slice(0, -2)}${data!.at(-2) === "A" ? "B" : "A"}${data!.at(-1)}`;
    const cases = [flipped, `${v}:k0:${iv}:${data}`, `${v}:k9:${iv}:${data}`, "gsb1:k1:x", "plain text", `gsb2:k1:${iv}:${data}`];
    for (const bad of cases) {
      let error: unknown;
      try {
        box.open(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(GatewayError);
      expect((error as Error).message).not.toContain(data!.slice(0, 10));
    }
  });

  it("rotates: a box with a new key opens old values, flags them and reseals them with the newest key", () => {
    const old = createSecretBox([{ kid: "2025", key: key(1) }]);
    const sealed = old.seal("rotate-me");
    const rotated = secretBoxFromEnv({ GATEWAY_SECRET_KEYS: `2026:${b64(2)}, 2025:${b64(1)}` })!;
    expect(rotated.kid).toBe("2026");
    expect(rotated.open(sealed)).toBe("rotate-me");
    expect(rotated.needsReseal(sealed)).toBe(true);
    const resealed = rotated.reseal(sealed);
    expect(resealed.startsWith("gsb1:2026:")).toBe(true);
    expect(rotated.needsReseal(resealed)).toBe(false);
    expect(rotated.reseal(resealed)).toBe(resealed);
    // Once the old key is dropped, only resealed values open.
    const newOnly = secretBoxFromEnv({ GATEWAY_SECRET_KEYS: `2026:${b64(2)}` })!;
    expect(newOnly.open(resealed)).toBe("rotate-me");
    expect(() => newOnly.open(sealed)).toThrow(/unknown key id "2025"/);
  });

  it("reads GATEWAY_SECRET_KEY, and refuses short keys or bad entries without printing them", () => {
    expect(secretBoxFromEnv({})).toBeUndefined();
    const single = secretBoxFromEnv({ GATEWAY_SECRET_KEY: b64(7) })!;
    expect(single.kid).toBe("default");
    expect(single.open(single.seal("x"))).toBe("x");
    const short = Buffer.alloc(16, 9).toString("base64");
    expect(() => secretBoxFromEnv({ GATEWAY_SECRET_KEY: short })).toThrow(/must be 32 bytes/);
    try {
      secretBoxFromEnv({ GATEWAY_SECRET_KEY: short });
    } catch (error) {
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => secretBoxFromEnv({ GATEWAY_SECRET_KEYS: b64(1) })).toThrow(/expected "<kid>:<base64 key>"/);
    expect(() => secretBoxFromEnv({ GATEWAY_SECRET_KEYS: `a:${b64(1)},a:${b64(2)}` })).toThrow(/duplicate key id/);
  });
});

describe("maskSecrets", () => {
  it("recognises secret-looking keys and leaves descriptive ones", () => {
    for (const k of ["authorization", "Authorization", "x-api-key", "apiKey", "api_key", "clientSecret", "client_secret", "password", "GITHUB_TOKEN", "access_token", "Cookie", "set-cookie", "privateKey", "credentials", "secret"]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ["tokenUrl", "maxTokenBytes", "apiKeyHeader", "name", "issuer", "audience", "scopeClaim", "headers", "secretName", "author", "auth"]) {
      expect(isSecretKey(k), k).toBe(false);
    }
  });

  it("masks deep values, URLs with passwords, secret query parameters and bearer credentials, without mutating", () => {
    const input = {
      name: "gh",
      url: "https://user:hunter2@api.example.com/v1?token=abc123&page=2&api_key=zzz",
      headers: { Authorization: "Bearer sk-live-1234", Accept: "application/json" },
      env: { GITHUB_TOKEN: "ghp_x", PATH: "/usr/bin" },
      auth: { jwt: { secret: "s".repeat(40), issuer: "https://iss", maxTokenBytes: 8192 }, basic: { users: { admin: "pw" } } },
      credentials: { clientId: "id", nested: ["a", { deep: "b" }] },
      note: "called with Bearer eyJhbGciOi.abc.def and Basic dXNlcjpwYXNz",
      list: [{ password: "p1" }, { password: 42 }],
    };
    const snapshot = JSON.stringify(input);
    const masked = maskSecrets(input);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(masked.url).toBe("https://user:****@api.example.com/v1?token=****&page=2&api_key=****");
    expect(masked.headers).toEqual({ Authorization: MASK, Accept: "application/json" });
    expect(masked.env).toEqual({ GITHUB_TOKEN: MASK, PATH: "/usr/bin" });
    expect(masked.auth.jwt).toEqual({ secret: MASK, issuer: "https://iss", maxTokenBytes: 8192 });
    expect(masked.auth.basic.users).toEqual({ admin: MASK });
    expect(masked.credentials).toEqual({ clientId: MASK, nested: [MASK, { deep: MASK }] });
    expect(masked.note).toBe("called with Bearer **** and Basic ****");
    expect(masked.list).toEqual([{ password: MASK }, { password: 42 }]);
    for (const secret of ["hunter2", "abc123", "zzz", "sk-live-1234", "ghp_x", "s".repeat(40), "eyJhbGciOi", "dXNlcjpwYXNz", "p1"]) {
      expect(JSON.stringify(masked)).not.toContain(secret);
    }
  });

  it("is cycle-safe, keeps shared references, and masks Headers objects", () => {
    const shared = { password: "x" };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    const masked = maskSecrets(cyclic);
    expect(masked).toEqual({ a: { password: MASK }, b: { password: MASK }, self: "[Circular]" });
    expect(maskSecrets({ h: new Headers({ authorization: "Bearer abcdef", "x-trace": "1" }) })).toEqual({ h: { authorization: MASK, "x-trace": "1" } });
    expect(maskSecrets("postgres://gw:pw@db/x")).toBe("postgres://gw:****@db/x");
    expect(maskString("no secrets here")).toBe("no secrets here");
  });
});
