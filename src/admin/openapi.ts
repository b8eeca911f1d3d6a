import type { AdminRoute } from "./route.ts";

const PROBLEM = { $ref: "#/components/schemas/Problem" };

/** The OpenAPI 3.1 document of the admin API, generated from the route table it serves. */
export function adminOpenApi(routes: readonly AdminRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/admin${route.path.replace(/:(\w+)/g, "{$1}")}`;
    const parameters = [
      ...[...route.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
      ...(route.query ?? []).map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
    ];
    const status = String(route.status ?? 200);
    (paths[path] ??= {})[route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[:/](\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "")}`,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { "application/json": { schema: { type: "object", description: Object.entries(route.body).map(([k, t]) => `${k}: ${t}`).join(", ") } } } } }
        : {}),
      responses: {
        [status]: status === "204" ? { description: "Done" } : { description: "OK", content: { "application/json": { schema: { type: "object" } } } },
        "401": { description: "Admin credentials missing or wrong", content: { "application/problem+json": { schema: PROBLEM } } },
        "404": { description: "Unknown name", content: { "application/problem+json": { schema: PROBLEM } } },
        ...(route.method === "GET" ? {} : { "409": { description: "Name clash or config-declared item", content: { "application/problem+json": { schema: PROBLEM } } }, "422": { description: "Invalid input (errors[].field names each failure)", content: { "application/problem+json": { schema: PROBLEM } } } }),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "MCP gateway admin API", version },
    components: {
      securitySchemes: { adminToken: { type: "http", scheme: "bearer" }, adminBasic: { type: "http", scheme: "basic" } },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status"],
          properties: {
            type: { type: "string", description: "urn:mcp-gateway:problem:<slug>" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            errors: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } },
          },
        },
      },
    },
    security: [{ adminToken: [] }, { adminBasic: [] }],
    paths,
  };
}
