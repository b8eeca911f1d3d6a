import * as v from "valibot";
import { strict } from "../_utils/strict-object.ts";
import { toWsUrl, WS_URL_SCHEMES } from "../_utils/ws-url.ts";
import { PolicyConfigSchema } from "../auth/policy-schema.ts";
import { ForwardIdentitySchema } from "../auth/forward-identity.ts";
import { EntryOverridesSchema, ServerNameSchema, ServerSpecSchema } from "../registry/server-spec.ts";
import { codeRecord, LocalSectionSchema } from "../upstreams/local/schema.ts";
import { RestConfigSchema } from "../upstreams/rest/schema.ts";
import type { GatewayConfig } from "./types.ts";

const NAME_RE = /^[a-zA-Z0-9_-]{1,32}$/;
const SEPARATOR_RE = /^[a-zA-Z0-9_-]{1,4}$/;
// RFC 9110 token: what `Headers` accepts as a name.
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const NAME_MESSAGE = 'expected 1-32 letters, digits, "_" or "-"';
const URL_MESSAGE = "expected a URL (http or https)";
const WS_URL_MESSAGE = "expected a ws:// or wss:// URL";


function int(min: number, max: number, message: string) {
  return v.pipe(
    v.number(message),
    v.check((n) => Number.isInteger(n) && n >= min && n <= max, message),
  );
}

const positiveInt = () => int(1, Number.MAX_SAFE_INTEGER, "expected a positive integer");
const nonNegativeInt = () => int(0, Number.MAX_SAFE_INTEGER, "expected a non-negative integer");
const nonEmptyString = () =>
  v.pipe(v.string("expected a string"), v.nonEmpty("expected a non-empty string"));
const name = () => v.pipe(v.string(NAME_MESSAGE), v.regex(NAME_RE, NAME_MESSAGE));
const stringMap = () =>
  v.record(v.string(), v.string("expected a string"), "expected an object of strings");

const httpUrl = () =>
  v.pipe(
    v.string(URL_MESSAGE),
    v.check((input) => {
      if (!URL.canParse(input)) return false;
      const { protocol } = new URL(input);
      return protocol === "http:" || protocol === "https:";
    }, URL_MESSAGE),
  );

/** `ws:` or `wss:`; `http:`/`https:` are accepted too and become `ws:`/`wss:`. */
const wsUrl = () =>
  v.pipe(
    v.string(WS_URL_MESSAGE),
    v.check((input) => URL.canParse(input) && WS_URL_SCHEMES.includes(new URL(input).protocol), WS_URL_MESSAGE),
    v.transform(toWsUrl),
  );

const headers = () =>
  v.record(
    v.pipe(v.string(), v.regex(HEADER_NAME_RE, "expected a valid HTTP header name")),
    v.string("expected a string"),
    "expected an object of strings",
  );

const restart = strict({
  initialDelayMs: v.optional(nonNegativeInt()),
  maxDelayMs: v.optional(positiveInt()),
  maxRetries: v.optional(
    v.pipe(
      v.number("expected a non-negative integer or Infinity"),
      v.check(
        (n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && n >= 0),
        "expected a non-negative integer or Infinity",
      ),
    ),
  ),
});

const base = {
  enabled: v.optional(v.boolean("expected true or false")),
  prefix: v.optional(v.union([v.literal(false), name()], `${NAME_MESSAGE}, or false`)),
  timeout: v.optional(positiveInt()),
};

const common = {
  ...base,
  isolation: v.optional(v.picklist(["shared", "per-session"], 'expected "shared" or "per-session"')),
  protocol: v.optional(
    v.picklist(["auto", "legacy", "2026-07-28"], 'expected "auto", "legacy" or "2026-07-28"'),
  ),
  restart: v.optional(restart),
  forwardIdentity: v.optional(ForwardIdentitySchema),
};

/** A2A agents: no `isolation` (stateless HTTP) and no `protocol` (not MCP). */
const agentCommon = { ...base, restart: v.optional(restart) };

const upstream = v.variant(
  "type",
  [
    strict({
      type: v.literal("stdio"),
      ...common,
      command: nonEmptyString(),
      args: v.optional(v.array(v.string("expected a string"), "expected an array of strings")),
      env: v.optional(stringMap()),
      cwd: v.optional(nonEmptyString()),
    }),
    strict({ type: v.literal("streamable-http"), ...common, url: httpUrl(), headers: v.optional(headers()) }),
    strict({ type: v.literal("sse"), ...common, url: httpUrl(), headers: v.optional(headers()) }),
    strict({ type: v.literal("websocket"), ...common, url: wsUrl(), headers: v.optional(headers()) }),
    strict({
      type: v.literal("a2a"),
      ...agentCommon,
      url: httpUrl(),
      headers: v.optional(headers()),
      skills: v.optional(v.picklist(["per-skill", "single"], 'expected "per-skill" or "single"')),
    }),
  ],
  (issue) =>
    issue.expected === "Object"
      ? "expected an object"
      : 'expected "stdio", "streamable-http", "sse", "websocket" or "a2a"',
);

/** Valibot schema of {@link GatewayConfig}: validates user input, applies no defaults. */
export const GatewayConfigSchema = strict({
  server: v.optional(
    strict({
      host: v.optional(nonEmptyString()),
      port: v.optional(int(0, 65535, "expected an integer port from 0 to 65535")),
      path: v.optional(v.pipe(v.string("expected a string"), v.startsWith("/", 'expected a path starting with "/"'))),
      allowedOrigins: v.optional(v.array(nonEmptyString(), "expected an array of strings")),
      maxBodySize: v.optional(positiveInt()),
      pageSize: v.optional(positiveInt()),
      sessionIdleTimeout: v.optional(positiveInt()),
    }),
  ),
  naming: v.optional(
    strict({
      separator: v.optional(
        v.pipe(
          v.string("expected a string"),
          v.regex(SEPARATOR_RE, 'expected 1-4 letters, digits, "_" or "-"'),
        ),
      ),
    }),
  ),
  defaults: v.optional(strict({ timeout: v.optional(positiveInt()) })),
  log: v.optional(
    strict({
      level: v.optional(
        v.picklist(
          ["silent", "error", "warn", "info", "debug"],
          'expected "silent", "error", "warn", "info" or "debug"',
        ),
      ),
    }),
  ),
  network: v.optional(
    strict({
      allow: v.optional(v.array(nonEmptyString(), "expected an array of host names, IPs or CIDRs")),
    }),
  ),
  upstreams: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(NAME_RE, `upstream names: ${NAME_MESSAGE}`)),
      upstream,
      "expected an object of upstreams",
    ),
  ),
  policy: v.optional(PolicyConfigSchema),
  servers: v.optional(v.record(ServerNameSchema, ServerSpecSchema, "expected an object of virtual servers")),
  entries: v.optional(EntryOverridesSchema),
  storage: v.optional(
    strict({
      db: v.optional(nonEmptyString()),
      cache: v.optional(
        v.pipe(
          v.string("expected \"memory\" or a redis:// URL"),
          v.check((s) => s === "memory" || /^rediss?:\/\//.test(s), 'expected "memory" or a redis:// URL'),
        ),
      ),
      syncInterval: v.optional(positiveInt()),
    }),
  ),
  admin: v.optional(
    strict({
      token: v.optional(v.pipe(v.string("expected a string"), v.minLength(16, "expected at least 16 characters"))),
      users: v.optional(v.record(v.string(), v.pipe(v.string("expected a string"), v.minLength(8, "expected at least 8 characters")), "expected an object of user: password")),
    }),
  ),
  local: v.optional(LocalSectionSchema),
  rest: v.optional(RestConfigSchema),
  // Local entries hold code: resolveConfig takes them out and resolveLocalEntries validates them.
  tools: v.optional(codeRecord<NonNullable<GatewayConfig["tools"]>>()),
  prompts: v.optional(codeRecord<NonNullable<GatewayConfig["prompts"]>>()),
  resources: v.optional(codeRecord<NonNullable<GatewayConfig["resources"]>>()),
  // `plugins` and `auth` hold code and are validated by resolveConfig, outside this schema.
}, ["plugins", "auth"]);
