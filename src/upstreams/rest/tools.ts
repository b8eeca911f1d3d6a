import type { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import { ConcurrencyLimiter, TokenBucket } from "./limits.ts";
import { mappedArgs, mappingFromConfig, type RequestMapping } from "./mapping.ts";
import type { OpenApiTool } from "./openapi.ts";
import type { RetryPolicy } from "./retry.ts";
import { createValidator, toToolJsonSchema, type ArgumentValidator } from "./tool-schema.ts";
import type { RestApiConfig, RestResilienceConfig, RestToolConfig } from "./types.ts";

/** Per-call limits of one tool: its own where it sets them, on top of the API's shared ones. */
export interface ToolLimits {
  readonly timeout: number;
  readonly retry: RetryPolicy;
  readonly limiters: readonly ConcurrencyLimiter[];
  readonly buckets: readonly TokenBucket[];
}

/** A tool ready to be listed and called. */
export interface RestTool {
  readonly name: string;
  /** The `tools/list` entry. */
  readonly listed: Record<string, unknown>;
  readonly mapping: RequestMapping;
  readonly validate: ArgumentValidator;
  readonly idempotent: boolean;
  readonly limits: ToolLimits;
}

/** The limiters an API shares between its tools. */
export interface ApiLimits {
  readonly timeout: number;
  readonly retry: RetryPolicy;
  readonly limiter?: ConcurrencyLimiter;
  readonly bucket?: TokenBucket;
}

/** `retries` as written → a policy (default: 2 retries, 200 ms doubling up to 5 s, with jitter). */
export function retryPolicy(retries: RestResilienceConfig["retries"], fallback?: RetryPolicy): RetryPolicy {
  const base = fallback ?? { retries: 2, initialDelayMs: 200, maxDelayMs: 5000 };
  if (retries === undefined) return base;
  if (retries === false) return { ...base, retries: 0 };
  if (typeof retries === "number") return { ...base, retries };
  return { retries: retries.retries ?? base.retries, initialDelayMs: retries.initialDelayMs ?? base.initialDelayMs, maxDelayMs: retries.maxDelayMs ?? base.maxDelayMs };
}

/** The API-level limits (one limiter and bucket shared by every tool of the API). */
export function apiLimits(api: RestApiConfig, defaultTimeout: number): ApiLimits {
  return {
    timeout: api.timeout ?? defaultTimeout,
    retry: retryPolicy(api.retries),
    ...(api.concurrency ? { limiter: new ConcurrencyLimiter(api.concurrency) } : {}),
    ...(api.rateLimit ? { bucket: new TokenBucket(api.rateLimit.requestsPerSecond, api.rateLimit.burst) } : {}),
  };
}

function toolLimits(tool: RestResilienceConfig, api: ApiLimits): ToolLimits {
  const limiters = [api.limiter, tool.concurrency ? new ConcurrencyLimiter(tool.concurrency) : undefined].filter((l) => l !== undefined);
  const buckets = [api.bucket, tool.rateLimit ? new TokenBucket(tool.rateLimit.requestsPerSecond, tool.rateLimit.burst) : undefined].filter((b) => b !== undefined);
  return { timeout: tool.timeout ?? api.timeout, retry: retryPolicy(tool.retries, api.retry), limiters, buckets };
}

function annotations(method: string): Record<string, boolean> {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return { readOnlyHint: true, openWorldHint: true };
  return { readOnlyHint: false, idempotentHint: method === "PUT" || method === "DELETE", openWorldHint: true };
}

/** A hand-written mapping as a tool. @throws Error when its `input` / `output` schema cannot be converted. */
export function configTool(name: string, config: RestToolConfig, api: ApiLimits, ajv: AjvJsonSchemaValidator): RestTool {
  const mapping = mappingFromConfig(config);
  const inputSchema = config.input ? toToolJsonSchema(config.input) : defaultInputSchema(mapping);
  const outputSchema = config.output ? toToolJsonSchema(config.output) : undefined;
  const listed = {
    name,
    ...(config.title ? { title: config.title } : {}),
    description: config.description ?? `${mapping.method} ${mapping.path}`,
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    annotations: annotations(mapping.method),
  };
  const validate = createValidator(config.input ?? inputSchema, ajv);
  return { name, listed, mapping, validate, idempotent: config.idempotent === true, limits: toolLimits(config, api) };
}

/** An imported operation as a tool (API-level limits only). */
export function importedTool(tool: OpenApiTool, api: ApiLimits, ajv: AjvJsonSchemaValidator): RestTool {
  const listed = { name: tool.name, description: tool.description, inputSchema: tool.inputSchema, annotations: annotations(tool.mapping.method) };
  return { name: tool.name, listed, mapping: tool.mapping, validate: createValidator(tool.inputSchema, ajv), idempotent: false, limits: toolLimits({}, api) };
}

/** Without an `input` schema: every mapped argument, path arguments required; `rest` bodies take any other key. */
function defaultInputSchema(mapping: RequestMapping): Record<string, unknown> {
  const properties = Object.fromEntries(mappedArgs(mapping).map((arg) => [arg, {}]));
  const required = mapping.pathParams.map((p) => p.arg);
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}
