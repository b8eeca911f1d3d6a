import { createHash } from "node:crypto";
import { globToRegExp } from "../../_utils/glob.ts";
import type { RequestMapping, ParamMapping } from "./mapping.ts";
import type { OpenApiDocument } from "./openapi-load.ts";
import { acyclicSchema } from "./openapi-schema.ts";
import type { JsonSchemaObject, RestOperationFilter } from "./types.ts";

/** One operation of a document, ready to become a tool. */
export interface OpenApiTool {
  name: string;
  description: string;
  inputSchema: JsonSchemaObject;
  mapping: RequestMapping;
  /** `METHOD /path`, for messages. */
  operation: string;
}

type Obj = Record<string, unknown>;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"] as const;
const TOOL_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;

/** A stable MCP tool name: the operationId (or `method_path`) with invalid characters as `_`, at most 64 chars. */
export function toolNameFor(method: string, path: string, operationId?: string): string {
  const raw = operationId || `${method}_${path.replace(/[{}]/g, "")}`;
  // Runs of `_` collapse so a name never contains the gateway's default `__` separator.
  let name = raw.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/_+/g, "_").replace(/^_+|_+$/g, "") || method;
  // A hash of the full source keeps two long names that share their first 55 characters apart.
  if (name.length > 64) name = `${name.slice(0, 55)}_${createHash("sha256").update(raw).digest("hex").slice(0, 8)}`;
  return name;
}

function matches(filter: RestOperationFilter, op: { method: string; path: string; id?: string; tags: string[] }): boolean {
  if (filter.tags && !filter.tags.some((t) => op.tags.includes(t))) return false;
  if (filter.operationIds && !(op.id && filter.operationIds.includes(op.id))) return false;
  if (filter.paths && !filter.paths.some((glob) => globToRegExp(glob).test(op.path))) return false;
  if (filter.methods && !filter.methods.some((m) => m.toLowerCase() === op.method)) return false;
  return true;
}

/**
 * The operations of a dereferenced document as tools, after `include` / `exclude` (an operation matches a
 * filter when it matches every list the filter gives). Cookie parameters and non-JSON request bodies are not
 * supported: such operations are skipped and named in `skipped`.
 * @throws Error when two operations derive the same tool name.
 */
export function openApiTools(doc: OpenApiDocument, filters: { include?: RestOperationFilter; exclude?: RestOperationFilter } = {}): { tools: OpenApiTool[]; skipped: string[] } {
  const tools: OpenApiTool[] = [];
  const skipped: string[] = [];
  const owners = new Map<string, string>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Obj>)) {
    for (const method of METHODS) {
      const op = item[method] as Obj | undefined;
      if (!op || typeof op !== "object") continue;
      const id = typeof op.operationId === "string" ? op.operationId : undefined;
      const info = { method, path, tags: Array.isArray(op.tags) ? (op.tags as string[]) : [], ...(id ? { id } : {}) };
      if (filters.include && !matches(filters.include, info)) continue;
      if (filters.exclude && matches(filters.exclude, info)) continue;
      const operation = `${method.toUpperCase()} ${path}`;
      const tool = operationTool(method, path, item, op, operation);
      if (typeof tool === "string") {
        skipped.push(`${operation}: ${tool}`);
        continue;
      }
      if (!TOOL_NAME_RE.test(tool.name)) throw new Error(`${operation}: cannot derive a valid tool name`);
      const owner = owners.get(tool.name);
      if (owner) throw new Error(`tool name collision: ${owner} and ${operation} both become "${tool.name}"`);
      owners.set(tool.name, operation);
      tools.push(tool);
    }
  }
  return { tools, skipped };
}

/** One operation → tool, or the reason it cannot be one. */
function operationTool(method: string, path: string, item: Obj, op: Obj, operation: string): OpenApiTool | string {
  const params = new Map<string, Obj>();
  for (const p of [...asArray(item.parameters), ...asArray(op.parameters)]) params.set(`${p.in}:${p.name}`, p);
  const byName = new Map<string, number>();
  for (const p of params.values()) byName.set(String(p.name), (byName.get(String(p.name)) ?? 0) + 1);
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const mapped: Record<"path" | "query" | "header", ParamMapping[]> = { path: [], query: [], header: [] };
  for (const p of params.values()) {
    const where = String(p.in);
    const name = String(p.name);
    if (where === "cookie") return "cookie parameters are not supported";
    if (where !== "path" && where !== "query" && where !== "header") continue;
    // The same name in two places (e.g. path and query `id`): the argument says where it goes.
    const arg = byName.get(name)! > 1 ? `${where}_${name}` : name;
    mapped[where].push({ arg, name });
    const schema = acyclicSchema((p.schema as Obj | undefined) ?? {});
    properties[arg] = typeof p.description === "string" ? { ...schema, description: p.description } : schema;
    if (p.required === true || where === "path") required.push(arg);
  }
  let body: RequestMapping["body"];
  const requestBody = op.requestBody as Obj | undefined;
  if (requestBody) {
    const content = (requestBody.content ?? {}) as Record<string, Obj>;
    const type = Object.keys(content).find((t) => t === "application/json" || /\+json$/.test(t) || t === "*/*");
    if (!type) return `request body type ${Object.keys(content).join(", ") || "(none)"} is not supported (only JSON)`;
    const arg = properties.body ? "requestBody" : "body";
    const schema = acyclicSchema((content[type]!.schema as Obj | undefined) ?? {});
    properties[arg] = typeof requestBody.description === "string" ? { ...schema, description: requestBody.description } : schema;
    if (requestBody.required === true) required.push(arg);
    body = { kind: "arg", arg };
  }
  const text = [op.summary, op.description].filter((s): s is string => typeof s === "string" && s.trim() !== "");
  return {
    name: toolNameFor(method, path, typeof op.operationId === "string" ? op.operationId : undefined),
    description: text.join("\n\n") || operation,
    inputSchema: { type: "object", properties, ...(required.length ? { required } : {}) },
    mapping: { method: method.toUpperCase(), path, pathParams: mapped.path, query: mapped.query, headers: mapped.header, ...(body ? { body } : {}) },
    operation,
  };
}

function asArray(value: unknown): Obj[] {
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === "object") as Obj[]) : [];
}

/** The first `servers` URL with its variables at their defaults, resolved against the spec's own URL. */
export function serverUrl(doc: OpenApiDocument, specUrl?: string): string | undefined {
  const server = asArray(doc.servers)[0];
  if (typeof server?.url !== "string") return undefined;
  const variables = (server.variables ?? {}) as Record<string, { default?: unknown }>;
  const url = server.url.replace(/\{([^}]+)\}/g, (_, name: string) => String(variables[name]?.default ?? ""));
  if (URL.canParse(url)) return url;
  return specUrl && URL.canParse(url, specUrl) ? new URL(url, specUrl).href : undefined;
}
