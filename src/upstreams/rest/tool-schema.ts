import { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import type { JsonSchemaObject, RestSchema } from "./types.ts";

/** Checks tool arguments; `value` is what the request is built from (valibot may transform it). */
export type ArgumentValidator = (args: unknown) => { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** A valibot schema (as opposed to a JSON Schema object). */
export function isValibotSchema(schema: unknown): schema is v.GenericSchema {
  return !!schema && typeof schema === "object" && (schema as { kind?: unknown }).kind === "schema" && typeof (schema as Record<string, unknown>)["~run"] === "function";
}

/** The JSON Schema advertised for a tool schema. @throws Error when a valibot schema cannot be expressed. */
export function toToolJsonSchema(schema: RestSchema): JsonSchemaObject {
  if (!isValibotSchema(schema)) return schema as JsonSchemaObject;
  const { $schema: _, ...json } = toJsonSchema(schema, { errorMode: "throw" }) as JsonSchemaObject;
  return json;
}

/**
 * A validator for a tool's arguments: valibot schemas run as themselves, JSON Schemas through the MCP SDK's
 * ajv provider (one per upstream, passed in). A JSON Schema ajv cannot compile checks only that arguments are an object.
 */
export function createValidator(schema: RestSchema, ajv: AjvJsonSchemaValidator): ArgumentValidator {
  if (isValibotSchema(schema)) {
    return (args) => {
      const result = v.safeParse(schema, args ?? {});
      if (result.success) return { ok: true, value: result.output as Record<string, unknown> };
      return { ok: false, message: result.issues.map((i) => `${v.getDotPath(i) ?? "(root)"}: ${i.message}`).join("; ") };
    };
  }
  let check: ((input: unknown) => { valid: boolean; errorMessage?: string }) | undefined;
  try {
    check = ajv.getValidator(schema as never);
  } catch {
    check = undefined;
  }
  return (args) => {
    const value = args ?? {};
    if (typeof value !== "object" || Array.isArray(value)) return { ok: false, message: "expected an object of arguments" };
    if (!check) return { ok: true, value: value as Record<string, unknown> };
    const result = check(value);
    return result.valid ? { ok: true, value: value as Record<string, unknown> } : { ok: false, message: result.errorMessage ?? "does not match the input schema" };
  };
}
