import type { ConfigIssue } from "../../errors.ts";
import type { ResolvedRestUpstream } from "../../config/types.ts";
import { isValibotSchema } from "./tool-schema.ts";
import type { RestApiConfig } from "./types.ts";

/**
 * The validated `rest` section as upstreams (appended after `upstreams`), plus the issues no schema can see:
 * a name that `upstreams` already uses, an API without `baseUrl` or `openapi`, a path argument the input
 * schema does not declare.
 */
export function resolveRestApis(
  rest: Readonly<Record<string, RestApiConfig>> | undefined,
  options: { timeout: number; upstreamNames: readonly string[] },
): { upstreams: ResolvedRestUpstream[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const upstreams: ResolvedRestUpstream[] = [];
  const taken = new Set(options.upstreamNames);
  for (const [name, api] of Object.entries(rest ?? {})) {
    const path = `rest.${name}`;
    if (taken.has(name)) issues.push({ path, message: `the name "${name}" is already used by an upstream` });
    if (!api.baseUrl && !api.openapi) issues.push({ path: `${path}.baseUrl`, message: "required (or give openapi.spec with a servers URL)" });
    for (const [toolName, tool] of Object.entries(api.tools ?? {})) {
      if (tool.input && isValibotSchema(tool.input) && !["object", "strict_object", "loose_object", "object_with_rest"].includes(tool.input.type)) {
        issues.push({ path: `${path}.tools.${toolName}.input`, message: "expected an object schema (v.object(...))" });
      }
    }
    upstreams.push({
      type: "rest",
      name,
      enabled: api.enabled ?? true,
      prefix: api.prefix ?? name,
      timeout: api.timeout ?? options.timeout,
      isolation: "shared",
      protocol: "auto",
      restart: { initialDelayMs: 250, maxDelayMs: 30_000, maxRetries: 0 },
      api,
    });
  }
  return { upstreams, issues };
}
