import type { RestToolConfig } from "./types.ts";

/** One argument sent as a path, query or header parameter named `name`. */
export interface ParamMapping {
  readonly arg: string;
  readonly name: string;
}

/** Where a JSON body comes from: one argument's value, some arguments picked into an object, or all the rest. */
export type BodyMapping = { kind: "arg"; arg: string } | { kind: "pick"; args: readonly string[] } | { kind: "rest" };

/** How a tool's arguments become one HTTP request. */
export interface RequestMapping {
  readonly method: string;
  /** Path template under the base URL, e.g. `/forecast/{city}`. */
  readonly path: string;
  readonly pathParams: readonly ParamMapping[];
  readonly query: readonly ParamMapping[];
  readonly headers: readonly ParamMapping[];
  readonly body?: BodyMapping;
}

/** One outgoing request, before auth is applied. */
export interface MappedRequest {
  url: URL;
  headers: Headers;
  body?: string;
}

const PATH_PARAM_RE = /\{([^{}]+)\}/g;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** The `{name}` placeholders of a path template, in order. */
export function pathParamNames(path: string): string[] {
  return [...path.matchAll(PATH_PARAM_RE)].map((m) => m[1]!);
}

/** The mapping of a hand-written tool: `{x}` in the path is argument `x`; `query` and `headers` name arguments. */
export function mappingFromConfig(tool: RestToolConfig): RequestMapping {
  const pathParams = pathParamNames(tool.path).map((name) => ({ arg: name, name }));
  const query = (tool.query ?? []).map((name) => ({ arg: name, name }));
  const headers = Object.entries(tool.headers ?? {}).map(([name, arg]) => ({ arg, name }));
  const method = tool.method.toUpperCase();
  let body: BodyMapping | undefined;
  if (typeof tool.body === "string") body = { kind: "arg", arg: tool.body };
  else if (Array.isArray(tool.body)) body = { kind: "pick", args: tool.body };
  else if (BODY_METHODS.has(method)) body = { kind: "rest" };
  return { method, path: tool.path, pathParams, query, headers, ...(body ? { body } : {}) };
}

/** Every argument name a mapping reads (the body's `rest` mode reads whatever is left). */
export function mappedArgs(mapping: RequestMapping): string[] {
  const named = [...mapping.pathParams, ...mapping.query, ...mapping.headers].map((p) => p.arg);
  if (mapping.body?.kind === "arg") named.push(mapping.body.arg);
  if (mapping.body?.kind === "pick") named.push(...mapping.body.args);
  return [...new Set(named)];
}

/**
 * Build the request for validated arguments. Path values are percent-encoded (no `/` or `..` can escape the
 * template); arrays become repeated query parameters; objects in query or headers are sent as JSON.
 * @throws Error naming a missing path argument.
 */
export function buildRequest(baseUrl: string, mapping: RequestMapping, args: Record<string, unknown>): MappedRequest {
  let path = mapping.path;
  for (const { arg, name } of mapping.pathParams) {
    const value = args[arg];
    if (value === undefined || value === null || value === "") throw new Error(`missing path argument "${arg}"`);
    const text = scalar(value);
    // URL parsers resolve `.` and `..` (even percent-encoded) as dot segments: they would climb the path.
    if (text === "." || text === "..") throw new Error(`path argument "${arg}" must not be "." or ".."`);
    path = path.replaceAll(`{${name}}`, encodeURIComponent(text));
  }
  const url = new URL(baseUrl.replace(/\/+$/, "") + path);
  for (const { arg, name } of mapping.query) {
    const value = args[arg];
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, scalar(item));
  }
  const headers = new Headers();
  for (const { arg, name } of mapping.headers) {
    const value = args[arg];
    if (value !== undefined && value !== null) headers.set(name, scalar(value));
  }
  const payload = bodyOf(mapping, args);
  if (payload === undefined) return { url, headers };
  headers.set("content-type", "application/json");
  return { url, headers, body: JSON.stringify(payload) };
}

function bodyOf(mapping: RequestMapping, args: Record<string, unknown>): unknown {
  const body = mapping.body;
  if (!body) return undefined;
  if (body.kind === "arg") return args[body.arg];
  const pick = body.kind === "pick" ? new Set(body.args) : undefined;
  const used = new Set([...mapping.pathParams, ...mapping.query, ...mapping.headers].map((p) => p.arg));
  const entries = Object.entries(args).filter(([key]) => (pick ? pick.has(key) : !used.has(key)));
  return entries.length === 0 && body.kind === "rest" ? undefined : Object.fromEntries(entries);
}

function scalar(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}
