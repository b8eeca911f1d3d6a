import { describe, expect, it } from "vitest";
import { createPolicy, readClaim, type PolicyConfig } from "../../src/auth/policy.ts";
import type { Identity } from "../../src/auth/types.ts";
import { resolveConfig } from "../../src/config/resolve.ts";
import { GatewayConfigError } from "../../src/errors.ts";

const who = (subject: string, claims: Record<string, unknown> = {}, scopes: string[] = []): Identity => ({
  subject,
  scopes,
  claims: { sub: subject, ...claims },
  provider: "test",
});
const call = (name: string, upstream?: string, server?: string) => ({ method: "tools/call", name, ...(upstream ? { upstream } : {}), ...(server ? { server } : {}) });

describe("policy decisions", () => {
  it("allows everything without a policy, and reports the default", () => {
    const policy = createPolicy(undefined);
    expect(policy.decide(undefined, call("a__b", "a"))).toEqual({ allow: true, rule: "default: allow" });
  });

  it("denies by default once a policy is configured without a default", () => {
    expect(createPolicy({ rules: [] }).decide(who("alice"), call("x"))).toEqual({ allow: false, rule: "default: deny" });
  });

  it("lets a deny anywhere override an earlier allow (deny-overrides), reporting the denying rule", () => {
    const policy = createPolicy({
      default: "deny",
      rules: [
        { name: "everyone-tools", when: { anonymous: false }, allow: { methods: ["tools/*"] } },
        { name: "support-readonly", when: { roles: ["support"] }, deny: { methods: ["tools/call"], upstreams: ["admin*"] } },
      ],
    });
    const bob = who("bob", { roles: ["support"] });
    expect(policy.decide(bob, call("admin__drop", "admin"))).toEqual({
      allow: false,
      rule: 'rules[1] "support-readonly": deny tools/call on upstream "admin*"',
    });
    expect(policy.decide(bob, call("search__q", "search"))).toEqual({ allow: true, rule: 'rules[0] "everyone-tools": allow tools/*' });
    expect(policy.decide(who("carol"), call("admin__drop", "admin")).allow).toBe(true);
  });

  it("reports the first matching allow when several allow", () => {
    const policy = createPolicy({ rules: [{ when: { subjects: ["nobody"] }, allow: {} }, { allow: { names: ["a*"] } }, { name: "all", allow: {} }] });
    expect(policy.decide(who("x"), call("abc")).rule).toBe('rules[1]: allow * name "a*"');
  });

  it("matches subjects, scopes and roles by glob, any value of a list sufficing", () => {
    const policy = createPolicy({
      rules: [
        { name: "staff", when: { subjects: ["*@example.com"] }, allow: { names: ["staff__*"] } },
        { name: "readers", when: { scopes: ["read:*"] }, allow: { methods: ["resources/read"] } },
        { name: "ops", when: { roles: ["ops", "sre"] }, allow: { upstreams: ["infra"] } },
      ],
    });
    expect(policy.decide(who("a@example.com"), call("staff__x")).allow).toBe(true);
    expect(policy.decide(who("a@example.org"), call("staff__x")).allow).toBe(false);
    expect(policy.decide(who("r", {}, ["read:docs"]), { method: "resources/read", name: "file:///x" }).allow).toBe(true);
    expect(policy.decide(who("r", {}, ["write:docs"]), { method: "resources/read", name: "file:///x" }).allow).toBe(false);
    expect(policy.decide(who("o", { roles: ["sre"] }), call("infra__reboot", "infra")).allow).toBe(true);
    // Roles as a space- or comma-separated string.
    expect(policy.decide(who("o", { roles: "dev, ops" }), call("infra__reboot", "infra")).allow).toBe(true);
    expect(policy.decide(who("o", { roles: ["dev"] }), call("infra__reboot", "infra")).allow).toBe(false);
  });

  it("ANDs the fields of a condition and of a target", () => {
    const policy = createPolicy({
      rules: [{ when: { roles: ["dev"], scopes: ["tools"] }, allow: { methods: ["tools/call"], upstreams: ["gh"], names: ["gh__read_*"] } }],
    });
    const dev = who("d", { roles: ["dev"] }, ["tools"]);
    expect(policy.decide(dev, call("gh__read_file", "gh")).allow).toBe(true);
    expect(policy.decide(dev, call("gh__write_file", "gh")).allow).toBe(false);
    expect(policy.decide(dev, call("gh__read_file", "gl")).allow).toBe(false);
    expect(policy.decide(who("d", { roles: ["dev"] }), call("gh__read_file", "gh")).allow).toBe(false);
  });

  it("reads roles from a configurable claim path, including literal URI keys", () => {
    const nested = createPolicy({ rolesClaim: "realm_access.roles", rules: [{ when: { roles: ["admin"] }, allow: {} }] });
    expect(nested.decide(who("k", { realm_access: { roles: ["admin"] } }), call("x")).allow).toBe(true);
    expect(nested.decide(who("k", { roles: ["admin"] }), call("x")).allow).toBe(false);
    const uri = createPolicy({ rolesClaim: "https://example.com/roles", rules: [{ when: { roles: ["admin"] }, allow: {} }] });
    expect(uri.decide(who("k", { "https://example.com/roles": ["admin"] }), call("x")).allow).toBe(true);
  });

  it("matches claims by path with string globs, numbers and booleans exactly, arrays by any element", () => {
    const policy = createPolicy({
      rules: [
        { name: "eu", when: { claims: { "org.region": "eu-*", "org.tier": [2, 3], verified: true } }, allow: {} },
        { name: "groups", when: { claims: { groups: "team-a" } }, allow: { names: ["a__*"] } },
      ],
    });
    expect(policy.decide(who("u", { org: { region: "eu-west", tier: 2 }, verified: true }), call("x")).allow).toBe(true);
    expect(policy.decide(who("u", { org: { region: "us-east", tier: 2 }, verified: true }), call("x")).allow).toBe(false);
    expect(policy.decide(who("u", { org: { region: "eu-west", tier: "2" }, verified: true }), call("x")).allow).toBe(false);
    expect(policy.decide(who("u", { org: { region: "eu-west", tier: 3 }, verified: "true" }), call("x")).allow).toBe(false);
    expect(policy.decide(who("u", { org: { region: "eu-west", tier: 3 } }), call("x")).allow).toBe(false);
    expect(policy.decide(who("u", { groups: ["team-b", "team-a"] }), call("a__1")).allow).toBe(true);
    expect(policy.decide(who("u", { groups: ["team-b"] }), call("a__1")).allow).toBe(false);
  });

  it("treats anonymous callers explicitly: only rules without identity conditions or with anonymous: true apply", () => {
    const policy = createPolicy({
      rules: [
        { name: "public", when: { anonymous: true }, allow: { names: ["public__*"] } },
        { name: "members", when: { anonymous: false }, allow: { names: ["members__*"] } },
        { name: "no-when", deny: { names: ["*__danger"] } },
        { name: "role", when: { roles: ["*"] }, allow: {} },
      ],
    });
    expect(policy.decide(undefined, call("public__x")).allow).toBe(true);
    expect(policy.decide(undefined, call("members__x")).allow).toBe(false);
    expect(policy.decide(undefined, call("other")).rule).toBe("default: deny");
    expect(policy.decide(who("m"), call("public__x")).allow).toBe(false);
    expect(policy.decide(who("m"), call("members__x")).allow).toBe(true);
    expect(policy.decide(who("m", { roles: ["x"] }), call("public__danger")).rule).toBe('rules[2] "no-when": deny * name "*__danger"');
  });

  it("never matches a names/upstreams target for a request without a name or a known upstream", () => {
    const policy = createPolicy({ default: "allow", rules: [{ deny: { names: ["*"] } }, { deny: { upstreams: ["*"], methods: ["prompts/get"] } }] });
    expect(policy.decide(who("a"), { method: "logging/setLevel" }).allow).toBe(true);
    expect(policy.decide(who("a"), { method: "prompts/get", name: "p" }).allow).toBe(false);
    const byUpstream = createPolicy({ default: "allow", rules: [{ deny: { upstreams: ["*"] } }] });
    expect(byUpstream.decide(who("a"), { method: "prompts/get", name: "p" }).allow).toBe(true);
  });

  it("names the main endpoint @main for server targets", () => {
    const policy = createPolicy({ rules: [{ allow: { servers: ["@main"] } }, { allow: { servers: ["support"], names: ["kb__*"] } }] });
    expect(policy.decide(undefined, call("x")).allow).toBe(true);
    expect(policy.decide(undefined, call("x", undefined, "support")).allow).toBe(false);
    expect(policy.decide(undefined, call("kb__search", undefined, "support")).allow).toBe(true);
  });

  it("treats glob metacharacters other than * and ? literally and anchors every pattern", () => {
    const policy = createPolicy({
      rules: [
        { allow: { names: ["file:///docs/*.md", "a.b", "q?", "(x|y)", "[ab]"] } },
      ],
    });
    const allowed = (name: string) => policy.decide(undefined, { method: "resources/read", name }).allow;
    expect(allowed("file:///docs/a/b.md")).toBe(true);
    expect(allowed("file:///docs/readme.mdx")).toBe(false);
    expect(allowed("xfile:///docs/a.md")).toBe(false);
    expect(allowed("a.b")).toBe(true);
    expect(allowed("axb")).toBe(false);
    expect(allowed("q1")).toBe(true);
    expect(allowed("q12")).toBe(false);
    expect(allowed("(x|y)")).toBe(true);
    expect(allowed("x")).toBe(false);
    expect(allowed("[ab]")).toBe(true);
    expect(allowed("a")).toBe(false);
  });

  it("is case-sensitive and matches an empty name only with *", () => {
    const policy = createPolicy({ rules: [{ allow: { names: ["Echo"] } }, { allow: { methods: ["tools/call"], names: ["*"] } }] });
    expect(policy.decide(undefined, { method: "prompts/get", name: "echo" }).allow).toBe(false);
    expect(policy.decide(undefined, { method: "prompts/get", name: "Echo" }).allow).toBe(true);
    expect(policy.decide(undefined, { method: "tools/call", name: "" }).allow).toBe(true);
  });

  it("reads claims by literal key before dotted path and refuses prototype keys", () => {
    expect(readClaim({ "a.b": 1, a: { b: 2 } }, "a.b")).toBe(1);
    expect(readClaim({ a: { b: 2 } }, "a.b")).toBe(2);
    expect(readClaim({ a: {} }, "a.constructor")).toBeUndefined();
    expect(readClaim({}, "__proto__")).toBeUndefined();
  });
});

describe("policy config", () => {
  const resolve = (policy: unknown) => resolveConfig({ policy } as never);

  it("resolves to allow-all without a policy and to deny-by-default with one", () => {
    expect(resolveConfig({}).policy).toEqual({ default: "allow", rolesClaim: "roles", rules: [] });
    expect(resolve({ rules: [{ allow: { methods: ["tools/list"] } }] }).policy.default).toBe("deny");
  });

  it("names the offending field of an invalid policy", () => {
    const cases: [unknown, string][] = [
      [{ default: "maybe" }, "policy.default"],
      [{ rules: [{ when: { roles: ["x"] } }] }, "policy.rules.0"],
      [{ rules: [{ allow: { methods: "tools/call" } }] }, "policy.rules.0.allow.methods"],
      [{ rules: [{ allow: { verbs: ["x"] } }] }, "policy.rules.0.allow.verbs"],
      [{ rules: [{ deny: {}, when: { anonymous: "yes" } }] }, "policy.rules.0.when.anonymous"],
      [{ rules: [{ allow: { names: [] } }] }, "policy.rules.0.allow.names"],
    ];
    for (const [policy, path] of cases) {
      let error: unknown;
      try {
        resolve(policy);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(policy)).toBeInstanceOf(GatewayConfigError);
      expect((error as GatewayConfigError).issues.map((i) => i.path), JSON.stringify(policy)).toContain(path);
    }
  });

  it("accepts the documented example", () => {
    const policy: PolicyConfig = {
      default: "deny",
      rolesClaim: "roles",
      rules: [
        { name: "admins", when: { roles: ["admin"] }, allow: {} },
        { name: "readers", when: { scopes: ["tools:read"] }, allow: { methods: ["tools/call", "resources/read", "prompts/get"] } },
        { name: "no-prod-writes", when: { claims: { env: "staging" } }, deny: { upstreams: ["prod-*"], names: ["*__write*"] } },
      ],
    };
    expect(resolve(policy).policy.rules).toHaveLength(3);
  });
});
