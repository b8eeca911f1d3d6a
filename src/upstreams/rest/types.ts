import type { GenericSchema } from "valibot";

/** HTTP methods a REST tool may use. */
export type RestMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

/** A JSON Schema object (draft 2020-12 or 07), as MCP tool schemas carry it. */
export type JsonSchemaObject = Record<string, unknown>;

/** A tool's input/output schema: JSON Schema, or a valibot schema (converted with `@valibot/to-json-schema`). */
export type RestSchema = JsonSchemaObject | GenericSchema;

/** How the gateway authenticates to the API. Secrets usually come from `${env.NAME}`; they are never logged. */
export type RestAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "apiKey"; in: "header" | "query"; name: string; value: string }
  | { type: "headers"; headers: Record<string, string> }
  | {
      type: "oauth2";
      /** OAuth2 client-credentials grant: token endpoint, client id and secret. */
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      scope?: string;
      audience?: string;
      /** `body` (default) sends the client credentials as form fields, `basic` as an Authorization header. */
      clientAuth?: "body" | "basic";
    };

/** Retries of transient failures with exponential backoff and jitter (idempotent calls only). */
export interface RestRetryConfig {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Default 200. */
  initialDelayMs?: number;
  /** Default 5000. */
  maxDelayMs?: number;
}

/** Token bucket: `requestsPerSecond` sustained, `burst` at once (default: `requestsPerSecond` rounded up). */
export interface RestRateLimitConfig {
  requestsPerSecond: number;
  burst?: number;
}

/** Opens after `failureThreshold` consecutive failures (default 5), half-opens after `cooldownMs` (default 30 000). */
export interface RestCircuitBreakerConfig {
  failureThreshold?: number;
  cooldownMs?: number;
}

/** Resilience settings an API sets for all its tools and a tool may override. */
export interface RestResilienceConfig {
  /** Per-attempt timeout in ms. Default: the gateway's `defaults.timeout`. */
  timeout?: number;
  /** `false` or `0`: never retry. A number: that many retries with default delays. */
  retries?: number | false | RestRetryConfig;
  /** Requests in flight at most. Default unlimited. */
  concurrency?: number;
  rateLimit?: RestRateLimitConfig;
}

/** One HTTP operation offered as an MCP tool. */
export interface RestToolConfig extends RestResilienceConfig {
  method: RestMethod;
  /** Path under `baseUrl`; `{name}` segments are filled from the argument of that name (URL-encoded). */
  path: string;
  description?: string;
  title?: string;
  /** Arguments sent as query parameters. */
  query?: string[];
  /** Header name → argument name. */
  headers?: Record<string, string>;
  /**
   * JSON body: an argument name (its value is the body) or a list of argument names (picked into an object).
   * Default for POST, PUT and PATCH: every argument not used by the path, query or headers.
   */
  body?: string | string[];
  /** Arguments are validated against it before any request is made. Default: an object of the mapped names. */
  input?: RestSchema;
  /** Advertised as the tool's `outputSchema` (JSON responses become `structuredContent`). */
  output?: RestSchema;
  /** Retry a non-idempotent method (POST, PATCH) too: the API tolerates duplicates. */
  idempotent?: boolean;
}

/** Import operations of an OpenAPI document (3.0, 3.1 or Swagger 2.0) as tools. */
export interface RestOpenApiConfig {
  /** A file path (relative to the working directory) or an http(s) URL fetched through the SSRF guard. */
  spec: string;
  include?: RestOperationFilter;
  exclude?: RestOperationFilter;
  /** Resolve `$ref`s to other http(s) documents (through the SSRF guard). Default false: a load error. */
  allowRemoteRefs?: boolean;
}

/** Selects operations: each given list must match (tags: any of them; paths: globs with `*`). */
export interface RestOperationFilter {
  tags?: string[];
  operationIds?: string[];
  paths?: string[];
  methods?: string[];
}

/** One REST API: its tools are `<key>__<tool>` (prefix default = key). */
export interface RestApiConfig extends RestResilienceConfig {
  /** Default `true`. */
  enabled?: boolean;
  /** Default: the API's key; `false` = none. */
  prefix?: string | false;
  /** Base URL of every request; default: the first `servers` URL of the OpenAPI document. */
  baseUrl?: string;
  auth?: RestAuth;
  /** Sent with every request. */
  headers?: Record<string, string>;
  circuitBreaker?: RestCircuitBreakerConfig | false;
  openapi?: RestOpenApiConfig;
  /** Hand-written mappings by tool name; a name that an imported operation also has is a load error. */
  tools?: Record<string, RestToolConfig>;
}
