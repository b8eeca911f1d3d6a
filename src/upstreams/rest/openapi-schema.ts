/** Deepest schema nesting copied into a tool's input schema; deeper parts become `{}` (any). */
const MAX_DEPTH = 32;

/**
 * A JSON-serialisable copy of a dereferenced OpenAPI schema for a tool's `inputSchema`: a recursive `$ref`
 * (an object cycle after dereferencing) becomes `{}` at the point it recurs, and OpenAPI 3.0's `nullable: true`
 * becomes a `"null"` type so JSON Schema validators understand it.
 */
export function acyclicSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return copy(schema, new Set(), 0) as Record<string, unknown>;
}

function copy(value: unknown, ancestors: Set<object>, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (ancestors.has(value) || depth > MAX_DEPTH) return {};
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => copy(item, ancestors, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = copy(item, ancestors, depth + 1);
    if (out.nullable === true) {
      delete out.nullable;
      if (typeof out.type === "string") out.type = [out.type, "null"];
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}
