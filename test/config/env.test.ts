import { describe, expect, it } from "vitest";
import { interpolateEnv } from "../../src/config/env.ts";

describe("interpolateEnv", () => {
  it("replaces several references in one string and walks objects and arrays", () => {
    const fn = () => "kept";
    const { value, issues } = interpolateEnv(
      { a: "${env.HOST}:${env.PORT}", list: ["x-${env.HOST}", 3, true, null], hook: fn },
      { HOST: "localhost", PORT: "80" },
    );
    expect(issues).toEqual([]);
    expect(value).toEqual({ a: "localhost:80", list: ["x-localhost", 3, true, null], hook: fn });
    expect(value.hook).toBe(fn);
  });

  it("turns $${env.X} into the literal text ${env.X}", () => {
    const { value, issues } = interpolateEnv({ a: "$${env.X} and ${env.X}" }, { X: "1" });
    expect(issues).toEqual([]);
    expect(value.a).toBe("${env.X} and 1");
  });

  it("reports each missing variable with the dotted path of its field", () => {
    const { issues } = interpolateEnv(
      { upstreams: { search: { headers: { Authorization: "Bearer ${env.SEARCH_TOKEN}" } }, fs: { args: ["${env.A}", "${env.B}"] } } },
      { B: "" },
    );
    expect(issues).toEqual([
      { path: "upstreams.search.headers.Authorization", message: "environment variable SEARCH_TOKEN is not set" },
      { path: "upstreams.fs.args.0", message: "environment variable A is not set" },
    ]);
  });

  it("reports a malformed reference instead of leaving it silently", () => {
    const { issues } = interpolateEnv({ a: "${env.MY-VAR}" }, {});
    expect(issues).toEqual([{ path: "a", message: "invalid environment variable reference ${env.MY-VAR}" }]);
  });

  it("does not mutate the input and keeps a __proto__ key as data", () => {
    const input = JSON.parse('{"a":"${env.X}","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const { value } = interpolateEnv(input, { X: "1" });
    expect(input.a).toBe("${env.X}");
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["a", "__proto__"]);
  });

  it("reads process.env by default", () => {
    process.env.GATEWAY_TEST_VAR = "yes";
    try {
      expect(interpolateEnv("${env.GATEWAY_TEST_VAR}").value).toBe("yes");
    } finally {
      delete process.env.GATEWAY_TEST_VAR;
    }
  });
});
