/** Arguments → request (pure), tool names and cycle-free schemas from OpenAPI, and the `rest` config checks. */
import { describe, expect, it } from "vitest";
import * as v from "valibot";
import { resolveConfig } from "../../../src/config/resolve.ts";
import { GatewayConfigError } from "../../../src/errors.ts";
import { buildRequest, mappingFromConfig } from "../../../src/upstreams/rest/mapping.ts";
import { toolNameFor } from "../../../src/upstreams/rest/openapi.ts";
import { acyclicSchema } from "../../../src/upstreams/rest/openapi-schema.ts";
import { redact } from "../../../src/upstreams/rest/response.ts";

describe("buildRequest", () => {
  it("fills path, query (arrays repeated, objects as JSON) and headers; the rest of a POST is the JSON body", () => {
    const mapping = mappingFromConfig({ method: "POST", path: "/a/{id}/b", query: ["tag", "filter"], headers: { "X-Trace": "trace" } });
    const request = buildRequest("http://api.test/v1/", mapping, { id: "x/y", tag: ["a", "b"], filter: { q: 1 }, trace: "t1", name: "n", size: 2 });
    expect(request.url.href).toBe("http://api.test/v1/a/x%2Fy/b?tag=a&tag=b&filter=%7B%22q%22%3A1%7D");
    expect(request.headers.get("x-trace")).toBe("t1");
    expect(JSON.parse(request.body!)).toEqual({ name: "n", size: 2 });
  });

  it("sends no body for GET, picks listed arguments for a body list, and refuses a missing path argument", () => {
    expect(buildRequest("http://h", mappingFromConfig({ method: "GET", path: "/x" }), { a: 1 }).body).toBeUndefined();
    const picked = buildRequest("http://h", mappingFromConfig({ method: "PATCH", path: "/x", body: ["a"] }), { a: 1, b: 2 });
    expect(JSON.parse(picked.body!)).toEqual({ a: 1 });
    expect(() => buildRequest("http://h", mappingFromConfig({ method: "GET", path: "/x/{id}" }), {})).toThrow('missing path argument "id"');
  });
});

describe("OpenAPI helpers", () => {
  it("derives stable, valid tool names of at most 64 characters", () => {
    expect(toolNameFor("get", "/users/{id}/posts")).toBe("get_users_id_posts");
    expect(toolNameFor("get", "/x", "users.list")).toBe("users_list");
    const long = toolNameFor("get", "/x", "a".repeat(100));
    expect(long).toMatch(/^a{55}_[0-9a-f]{8}$/);
    expect(toolNameFor("get", "/x", `${"a".repeat(100)}b`)).not.toBe(long);
    expect(toolNameFor("get", "/x", "a".repeat(100))).toBe(long);
  });

  it("cuts recursive schemas where they recur and maps nullable to a null type", () => {
    const node: Record<string, unknown> = { type: "object", nullable: true, properties: {} };
    (node.properties as Record<string, unknown>).next = node;
    expect(JSON.parse(JSON.stringify(acyclicSchema(node)))).toEqual({ type: ["object", "null"], properties: { next: {} } });
  });

  it("masks every secret occurrence", () => {
    expect(redact("a secret-1 b secret-1 c", ["secret-1"])).toBe("a *** b *** c");
  });
});

describe("rest config", () => {
  const issues = (input: unknown) => {
    try {
      resolveConfig(input, { env: {} });
      return [];
    } catch (error) {
      return (error as GatewayConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it("resolves each API into an upstream of type rest, named and prefixed by its key", () => {
    const config = resolveConfig({ rest: { weather: { baseUrl: "http://127.0.0.1:1", tools: { f: { method: "GET", path: "/f" } } } } }, { env: {} });
    expect(config.upstreams).toMatchObject([{ type: "rest", name: "weather", prefix: "weather", enabled: true, timeout: 30_000 }]);
  });

  it("reports readable issues: names used twice, no baseUrl or spec, bad methods, paths and auth kinds", () => {
    expect(
      issues({
        upstreams: { dup: { type: "stdio", command: "x" } },
        rest: {
          dup: { baseUrl: "http://h" },
          none: {},
          bad: { baseUrl: "ftp://h", auth: { type: "magic" }, tools: { "bad name!": { method: "GET", path: "/" }, t: { method: "FETCH", path: "x" } } },
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        "rest.bad.baseUrl: expected a URL (http or https)",
        'rest.bad.auth.type: expected "bearer", "basic", "apiKey", "headers" or "oauth2"',
        expect.stringMatching(/^rest\.bad\.tools\.bad name!: tool names/),
        expect.stringMatching(/^rest\.bad\.tools\.t\.method: expected one of GET/),
        'rest.bad.tools.t.path: expected a path starting with "/"',
      ]),
    );
    expect(issues({ upstreams: { dup: { type: "stdio", command: "x" } }, rest: { dup: { baseUrl: "http://h" }, none: {} } })).toEqual(
      expect.arrayContaining(['rest.dup: the name "dup" is already used by an upstream', "rest.none.baseUrl: required (or give openapi.spec with a servers URL)"]),
    );
  });

  it("accepts valibot schemas as tool inputs, but only object schemas", () => {
    const tools = { ok: { method: "GET", path: "/a", input: v.object({ a: v.string() }) }, bad: { method: "GET", path: "/b", input: v.string() } };
    expect(issues({ rest: { a: { baseUrl: "http://h", tools } } })).toEqual(["rest.a.tools.bad.input: expected an object schema (v.object(...))"]);
  });

  it("interpolates secrets from the environment and names a missing variable", () => {
    const auth = { type: "bearer", token: "${env.API_TOKEN}" };
    expect(issues({ rest: { a: { baseUrl: "http://h", auth } } })).toEqual(["rest.a.auth.token: environment variable API_TOKEN is not set"]);
    const config = resolveConfig({ rest: { a: { baseUrl: "http://h", auth } } }, { env: { API_TOKEN: "t0k3n" } });
    expect(config.upstreams[0]).toMatchObject({ api: { auth: { token: "t0k3n" } } });
  });
});
