import * as v from "valibot";
import { strict } from "../../_utils/strict-object.ts";
import type { RestApiConfig, RestSchema } from "./types.ts";

const NAME_RE = /^[a-zA-Z0-9_-]{1,32}$/;
const TOOL_RE = /^[a-zA-Z0-9_-]{1,64}$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NAME_MESSAGE = 'expected 1-32 letters, digits, "_" or "-"';
const URL_MESSAGE = "expected a URL (http or https)";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

const positiveInt = () =>
  v.pipe(
    v.number("expected a positive integer"),
    v.check((n) => Number.isInteger(n) && n >= 1, "expected a positive integer"),
  );
const nonNegativeInt = () =>
  v.pipe(
    v.number("expected a non-negative integer"),
    v.check((n) => Number.isInteger(n) && n >= 0, "expected a non-negative integer"),
  );
const positive = () => v.pipe(v.number("expected a positive number"), v.check((n) => n > 0, "expected a positive number"));
const text = () => v.pipe(v.string("expected a string"), v.nonEmpty("expected a non-empty string"));
const httpUrl = () =>
  v.pipe(
    v.string(URL_MESSAGE),
    v.check((input) => URL.canParse(input) && ["http:", "https:"].includes(new URL(input).protocol), URL_MESSAGE),
  );
const headerMap = () =>
  v.record(
    v.pipe(v.string(), v.regex(HEADER_NAME_RE, "expected a valid HTTP header name")),
    v.string("expected a string"),
    "expected an object of strings",
  );
const names = () => v.array(text(), "expected an array of strings");

/** A JSON Schema object or a valibot schema (code: checked by shape, converted when the upstream starts). */
const schemaValue = () =>
  v.custom<RestSchema>(
    (input) => !!input && typeof input === "object" && !Array.isArray(input),
    "expected a JSON Schema object or a valibot schema",
  );

const retries = () =>
  v.union(
    [
      v.literal(false),
      nonNegativeInt(),
      strict({
        retries: v.optional(nonNegativeInt()),
        initialDelayMs: v.optional(nonNegativeInt()),
        maxDelayMs: v.optional(positiveInt()),
      }),
    ],
    "expected false, a number of retries or { retries, initialDelayMs, maxDelayMs }",
  );

const resilience = {
  timeout: v.optional(positiveInt()),
  retries: v.optional(retries()),
  concurrency: v.optional(positiveInt()),
  rateLimit: v.optional(strict({ requestsPerSecond: positive(), burst: v.optional(positiveInt()) })),
};

const auth = v.variant(
  "type",
  [
    strict({ type: v.literal("bearer"), token: text() }),
    strict({ type: v.literal("basic"), username: v.string("expected a string"), password: v.string("expected a string") }),
    strict({
      type: v.literal("apiKey"),
      in: v.picklist(["header", "query"], 'expected "header" or "query"'),
      name: text(),
      value: text(),
    }),
    strict({ type: v.literal("headers"), headers: headerMap() }),
    strict({
      type: v.literal("oauth2"),
      tokenUrl: httpUrl(),
      clientId: text(),
      clientSecret: text(),
      scope: v.optional(v.string("expected a string")),
      audience: v.optional(v.string("expected a string")),
      clientAuth: v.optional(v.picklist(["body", "basic"], 'expected "body" or "basic"')),
    }),
  ],
  (issue) => (issue.expected === "Object" ? "expected an object" : 'expected "bearer", "basic", "apiKey", "headers" or "oauth2"'),
);

const tool = strict({
  method: v.picklist(METHODS, `expected one of ${METHODS.join(", ")}`),
  path: v.pipe(v.string("expected a string"), v.startsWith("/", 'expected a path starting with "/"')),
  description: v.optional(v.string("expected a string")),
  title: v.optional(v.string("expected a string")),
  query: v.optional(names()),
  headers: v.optional(v.record(v.pipe(v.string(), v.regex(HEADER_NAME_RE, "expected a valid HTTP header name")), text(), "expected an object of argument names")),
  body: v.optional(v.union([text(), names()], "expected an argument name or an array of argument names")),
  input: v.optional(schemaValue()),
  output: v.optional(schemaValue()),
  idempotent: v.optional(v.boolean("expected true or false")),
  ...resilience,
});

const filter = () =>
  strict({
    tags: v.optional(names()),
    operationIds: v.optional(names()),
    paths: v.optional(names()),
    methods: v.optional(names()),
  });

const restApi = strict({
  enabled: v.optional(v.boolean("expected true or false")),
  prefix: v.optional(v.union([v.literal(false), v.pipe(v.string(NAME_MESSAGE), v.regex(NAME_RE, NAME_MESSAGE))], `${NAME_MESSAGE}, or false`)),
  baseUrl: v.optional(httpUrl()),
  auth: v.optional(auth),
  headers: v.optional(headerMap()),
  circuitBreaker: v.optional(
    v.union(
      [v.literal(false), strict({ failureThreshold: v.optional(positiveInt()), cooldownMs: v.optional(positiveInt()) })],
      "expected false or { failureThreshold, cooldownMs }",
    ),
  ),
  openapi: v.optional(
    strict({
      spec: text(),
      include: v.optional(filter()),
      exclude: v.optional(filter()),
      allowRemoteRefs: v.optional(v.boolean("expected true or false")),
    }),
  ),
  tools: v.optional(
    v.record(v.pipe(v.string(), v.regex(TOOL_RE, 'tool names: expected 1-64 letters, digits, "_" or "-"')), tool, "expected an object of tools"),
  ),
  ...resilience,
});

/** Valibot schema of one entry of the top-level `rest` config section (typed as the documented config). */
export const RestApiSchema: v.GenericSchema<RestApiConfig> = restApi;

/** Valibot schema of the `rest` config section: APIs by name (the name is the upstream name). */
export const RestConfigSchema: v.GenericSchema<Record<string, RestApiConfig>> = v.record(
  v.pipe(v.string(), v.regex(NAME_RE, `REST API names: ${NAME_MESSAGE}`)),
  RestApiSchema,
  "expected an object of REST APIs",
);
