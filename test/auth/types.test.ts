import { describe, expect, it } from "vitest";
import { defineAuthProvider, type AuthResult } from "../../src/auth/types.ts";

describe("defineAuthProvider", () => {
  it("returns the custom provider unchanged and keeps its result type", async () => {
    const provider = defineAuthProvider({
      name: "static-key",
      async authenticate(request): Promise<AuthResult> {
        return request.headers.get("x-api-key") === "k1"
          ? { ok: true, identity: { subject: "ci", scopes: ["tools:list"], claims: {}, provider: "static-key" } }
          : { ok: false, reason: "forbidden", message: "unknown API key" };
      },
    });
    const ok = await provider.authenticate(new Request("http://g.test", { headers: { "x-api-key": "k1" } }));
    expect(ok).toMatchObject({ ok: true, identity: { subject: "ci", provider: "static-key" } });
    expect(await provider.authenticate(new Request("http://g.test"))).toEqual({
      ok: false,
      reason: "forbidden",
      message: "unknown API key",
    });
  });
});
