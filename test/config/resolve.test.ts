import { describe, expect, expectTypeOf, it } from "vitest";
import type * as v from "valibot";
import { GatewayConfigError } from "../../src/errors.ts";
import { GatewayConfigSchema, resolveConfig, type GatewayConfig } from "../../src/config/index.ts";

/** The issues a config fails with, as `path: message` lines. */
function issuesOf(input: unknown, env: Record<string, string | undefined> = {}): string[] {
  try {
    resolveConfig(input, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayConfigError);
    return (error as GatewayConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("expected the config to be rejected");
}

describe("resolveConfig defaults", () => {
  it("resolves an empty config to every default", () => {
    expect(resolveConfig({})).toEqual({
      server: { host: "127.0.0.1", port: 4444, path: "/mcp", allowedOrigins: [], maxBodySize: 4 * 1024 * 1024, pageSize: 500, sessionIdleTimeout: 30 * 60 * 1000 },
      naming: { separator: "__" },
      defaults: { timeout: 30_000 },
      log: { level: "info" },
      upstreams: [],
      plugins: [],
      auth: { providers: [] },
      network: { allow: [] },
      policy: { default: "allow", rolesClaim: "roles", rules: [] },
      servers: [],
      entries: {},
      storage: { cache: "memory", syncInterval: 2000 },
      admin: { enabled: false, users: {} },
    });
  });

  it("resolves upstreams in declaration order with all common and kind-specific defaults", () => {
    const config = resolveConfig({
      defaults: { timeout: 5000 },
      upstreams: {
        zeta: { type: "stdio", command: "node" },
        alpha: { type: "streamable-http", url: "https://a.example/mcp" },
        mid: { type: "sse", url: "http://127.0.0.1:9/sse", prefix: false, timeout: 100, enabled: false, restart: { maxRetries: 3 } },
      },
    });
    expect(config.upstreams.map((u) => u.name)).toEqual(["zeta", "alpha", "mid"]);
    expect(config.upstreams[0]).toEqual({
      name: "zeta",
      type: "stdio",
      command: "node",
      args: [],
      env: {},
      enabled: true,
      prefix: "zeta",
      timeout: 5000,
      isolation: "shared",
      protocol: "auto",
      restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: Number.POSITIVE_INFINITY },
    });
    expect(config.upstreams[1]).toMatchObject({ type: "streamable-http", url: "https://a.example/mcp", headers: {}, prefix: "alpha" });
    expect(config.upstreams[2]).toMatchObject({
      type: "sse",
      prefix: false,
      timeout: 100,
      enabled: false,
      restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: 3 },
    });
  });

  it("returns a deeply frozen config that does not share objects with the input", () => {
    const input = { server: { allowedOrigins: ["https://app.example"] }, upstreams: { fs: { type: "stdio" as const, command: "x", args: ["a"] } } };
    const config = resolveConfig(input);
    expect(Object.isFrozen(config.server.allowedOrigins)).toBe(true);
    expect(Object.isFrozen(config.upstreams[0])).toBe(true);
    expect(Object.isFrozen(input.upstreams.fs.args)).toBe(false);
  });

  it("keeps user values over defaults", () => {
    const config = resolveConfig({ server: { host: "0.0.0.0", port: 0, path: "/", pageSize: 10 }, naming: { separator: "-" }, log: { level: "debug" } });
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 0, path: "/", pageSize: 10 });
    expect(config.naming.separator).toBe("-");
    expect(config.log.level).toBe("debug");
  });
});

describe("resolveConfig validation", () => {
  it("rejects a non-http URL with a dotted path and a readable message", () => {
    expect(issuesOf({ upstreams: { search: { type: "streamable-http", url: "ftp://x" } } })).toEqual([
      "upstreams.search.url: expected a URL (http or https)",
    ]);
    expect(issuesOf({ upstreams: { search: { type: "sse", url: "not a url" } } })).toEqual([
      "upstreams.search.url: expected a URL (http or https)",
    ]);
  });

  it("collects every issue of a config at once", () => {
    const issues = issuesOf({
      server: { port: 70_000, path: "mcp", maxBodySize: 0 },
      naming: { separator: "/////" },
      defaults: { timeout: 1.5 },
      log: { level: "loud" },
      upstreams: {
        "bad name": { type: "stdio", command: "x" },
        search: { type: "streamable-http", url: 42, headers: { "bad header": "x" } },
        fs: { type: "stdio", args: "x", isolation: "global", protocol: "v1", prefix: "a b", enabled: "yes" },
        ws: { type: "grpc", url: "ws://x" },
      },
    });
    expect(issues).toEqual([
      "server.port: expected an integer port from 0 to 65535",
      'server.path: expected a path starting with "/"',
      "server.maxBodySize: expected a positive integer",
      'naming.separator: expected 1-4 letters, digits, "_" or "-"',
      "defaults.timeout: expected a positive integer",
      'log.level: expected "silent", "error", "warn", "info" or "debug"',
      'upstreams.bad name: upstream names: expected 1-32 letters, digits, "_" or "-"',
      "upstreams.search.url: expected a URL (http or https)",
      "upstreams.search.headers.bad header: expected a valid HTTP header name",
      'upstreams.fs.enabled: expected true or false',
      'upstreams.fs.prefix: expected 1-32 letters, digits, "_" or "-"',
      'upstreams.fs.isolation: expected "shared" or "per-session"',
      'upstreams.fs.protocol: expected "auto", "legacy" or "2026-07-28"',
      "upstreams.fs.command: required",
      "upstreams.fs.args: expected an array of strings",
      'upstreams.ws.type: expected "stdio", "streamable-http", "sse", "websocket" or "a2a"',
    ]);
  });

  it("rejects unknown keys and names the allowed ones", () => {
    expect(issuesOf({ sever: {} })).toEqual(["sever: unknown key (allowed: server, naming, defaults, log, network, upstreams, policy, servers, entries, storage, admin, local, rest, tools, prompts, resources, plugins, auth)"]);
    expect(issuesOf({ server: { hots: "x" } })).toEqual([
      "server.hots: unknown key (allowed: host, port, path, allowedOrigins, maxBodySize, pageSize, sessionIdleTimeout)",
    ]);
    expect(issuesOf({ upstreams: { fs: { type: "stdio", command: "x", url: "http://x" } } })).toEqual([
      "upstreams.fs.url: unknown key (allowed: type, enabled, prefix, timeout, isolation, protocol, restart, forwardIdentity, command, args, env, cwd)",
    ]);
  });

  it("rejects a config that is not an object", () => {
    expect(issuesOf(42)).toEqual([": expected an object"]);
    expect(issuesOf({ upstreams: { fs: "npx x" } })).toEqual(["upstreams.fs: expected an object"]);
  });

  it("rejects bad restart settings, including a max delay below the initial delay", () => {
    expect(issuesOf({ upstreams: { fs: { type: "stdio", command: "x", restart: { maxRetries: -1 } } } })).toEqual([
      "upstreams.fs.restart.maxRetries: expected a non-negative integer or Infinity",
    ]);
    expect(issuesOf({ upstreams: { fs: { type: "stdio", command: "x", restart: { initialDelayMs: 60_000 } } } })).toEqual([
      "upstreams.fs.restart.maxDelayMs: must be at least initialDelayMs (60000)",
    ]);
  });

  it("names the file in the error message", () => {
    expect(() => resolveConfig({ log: { level: 1 } }, { file: "/x/gateway.config.ts" })).toThrow(
      'Invalid gateway config in /x/gateway.config.ts:\n  log.level: expected "silent", "error", "warn", "info" or "debug"',
    );
  });
});

describe("resolveConfig a2a upstreams", () => {
  it("resolves an A2A agent with per-skill tools, no headers and the shared common defaults", () => {
    const config = resolveConfig({ defaults: { timeout: 5000 }, upstreams: { planner: { type: "a2a", url: "https://agents.example/planner" } } });
    expect(config.upstreams[0]).toEqual({
      name: "planner",
      type: "a2a",
      url: "https://agents.example/planner",
      headers: {},
      skills: "per-skill",
      enabled: true,
      prefix: "planner",
      timeout: 5000,
      isolation: "shared",
      protocol: "auto",
      restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: Number.POSITIVE_INFINITY },
    });
  });

  it("keeps skills, headers and common fields the user sets", () => {
    const config = resolveConfig({
      upstreams: {
        planner: {
          type: "a2a",
          url: "https://agents.example/.well-known/agent-card.json",
          headers: { "X-Api-Key": "k" },
          skills: "single",
          prefix: "trip",
          timeout: 120_000,
          restart: { maxRetries: 2 },
        },
      },
    });
    expect(config.upstreams[0]).toMatchObject({ skills: "single", headers: { "X-Api-Key": "k" }, prefix: "trip", timeout: 120_000, restart: { maxRetries: 2 } });
  });

  it("rejects a bad URL or skills mode, and the MCP-only isolation and protocol, naming the allowed keys", () => {
    expect(issuesOf({ upstreams: { a: { type: "a2a", url: "agent.example", skills: "each" } } })).toEqual([
      "upstreams.a.url: expected a URL (http or https)",
      'upstreams.a.skills: expected "per-skill" or "single"',
    ]);
    expect(issuesOf({ upstreams: { a: { type: "a2a", url: "https://a.example", isolation: "per-session" } } })).toEqual([
      "upstreams.a.isolation: unknown key (allowed: type, enabled, prefix, timeout, restart, url, headers, skills)",
    ]);
  });
});

describe("resolveConfig websocket upstreams", () => {
  it("resolves a ws(s) URL, converts http(s), and applies the MCP common defaults", () => {
    const config = resolveConfig({
      upstreams: {
        a: { type: "websocket", url: "wss://a.example/ws" },
        b: { type: "websocket", url: "HTTP://b.example:8080/ws", headers: { authorization: "Bearer ${env.T}" }, prefix: false, protocol: "legacy" },
      },
    }, { env: { T: "t0k" } });
    expect(config.upstreams[0]).toEqual({
      type: "websocket",
      name: "a",
      enabled: true,
      prefix: "a",
      timeout: 30_000,
      isolation: "shared",
      protocol: "auto",
      restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: Number.POSITIVE_INFINITY },
      url: "wss://a.example/ws",
      headers: {},
    });
    expect(config.upstreams[1]).toMatchObject({ url: "ws://b.example:8080/ws", headers: { authorization: "Bearer t0k" }, prefix: false, protocol: "legacy" });
  });

  it("rejects a URL that is not ws(s) or http(s), naming the field", () => {
    expect(issuesOf({ upstreams: { a: { type: "websocket", url: "ftp://a.example/ws" }, b: { type: "websocket", url: "/ws" } } })).toEqual([
      "upstreams.a.url: expected a ws:// or wss:// URL",
      "upstreams.b.url: expected a ws:// or wss:// URL",
    ]);
  });
});

describe("resolveConfig prefixes", () => {
  it("rejects two enabled upstreams with the same effective prefix, naming both", () => {
    expect(
      issuesOf({
        upstreams: {
          web: { type: "streamable-http", url: "http://a", prefix: "search" },
          search: { type: "stdio", command: "x" },
        },
      }),
    ).toEqual(['upstreams.search.prefix: upstreams "web" and "search" both use the prefix "search"']);
  });

  it("allows several upstreams without a prefix and ignores disabled upstreams", () => {
    const config = resolveConfig({
      upstreams: {
        a: { type: "stdio", command: "x", prefix: false },
        b: { type: "stdio", command: "x", prefix: false },
        c: { type: "stdio", command: "x", prefix: "a", enabled: false },
      },
    });
    expect(config.upstreams.map((u) => u.prefix)).toEqual([false, false, "a"]);
  });

  it("rejects a prefix that contains the naming separator", () => {
    expect(issuesOf({ upstreams: { my__fs: { type: "stdio", command: "x" } } })).toEqual([
      'upstreams.my__fs.prefix: prefix "my__fs" must not contain the naming separator "__"',
    ]);
  });
});

describe("resolveConfig env interpolation", () => {
  it("replaces ${env.NAME} before validating", () => {
    const config = resolveConfig(
      { upstreams: { search: { type: "streamable-http", url: "${env.SEARCH_URL}/mcp", headers: { Authorization: "Bearer ${env.SEARCH_TOKEN}" } } } },
      { env: { SEARCH_URL: "https://search.example", SEARCH_TOKEN: "t0k" } },
    );
    expect(config.upstreams[0]).toMatchObject({ url: "https://search.example/mcp", headers: { Authorization: "Bearer t0k" } });
  });

  it("reports a missing variable once, at the field that uses it", () => {
    expect(
      issuesOf({
        upstreams: {
          search: { type: "streamable-http", url: "${env.SEARCH_URL}", headers: { Authorization: "Bearer ${env.SEARCH_TOKEN}" } },
        },
      }),
    ).toEqual([
      "upstreams.search.url: environment variable SEARCH_URL is not set",
      "upstreams.search.headers.Authorization: environment variable SEARCH_TOKEN is not set",
    ]);
  });
});

describe("GatewayConfigSchema", () => {
  it("infers exactly the GatewayConfig type (plugins are validated separately)", () => {
    expectTypeOf<v.InferOutput<typeof GatewayConfigSchema>>().toEqualTypeOf<Omit<GatewayConfig, "plugins" | "auth">>();
    expectTypeOf<v.InferInput<typeof GatewayConfigSchema>>().toEqualTypeOf<Omit<GatewayConfig, "plugins" | "auth">>();
  });
});

describe("network.allow", () => {
  it("accepts hosts, IPs and CIDRs and reports a malformed entry under network.allow", () => {
    expect(resolveConfig({ network: { allow: ["127.0.0.1", "10.0.0.0/8", "*.internal.example", "::1"] } }).network.allow).toHaveLength(4);
    expect(() => resolveConfig({ network: { allow: ["10.0.0.0/99"] } })).toThrow(/network\.allow/);
  });
});
