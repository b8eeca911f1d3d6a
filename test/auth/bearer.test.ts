import { describe, expect, it } from "vitest";
import { readBearerToken } from "../../src/auth/bearer.ts";

const withAuth = (value?: string) =>
  new Request("http://gateway.test/mcp", value === undefined ? {} : { headers: { authorization: value } });

describe("readBearerToken", () => {
  it("reads the token of a Bearer header, case-insensitively and with surrounding blanks", () => {
    expect(readBearerToken(withAuth("Bearer abc.def.ghi"))).toBe("abc.def.ghi");
    expect(readBearerToken(withAuth("bearer   abc "))).toBe("abc");
  });

  it("returns undefined for no header, other schemes, an empty token or several tokens", () => {
    for (const value of [undefined, "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Bearerabc"]) {
      expect(readBearerToken(withAuth(value))).toBeUndefined();
    }
  });

  it("ignores tokens in the query string", () => {
    expect(readBearerToken(new Request("http://gateway.test/mcp?access_token=abc&token=abc"))).toBeUndefined();
  });
});
