import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { describeError } from "../../_utils/errors.ts";
import type { LocalTool, LocalToolContext, LocalToolResult } from "./define.ts";

/** A tool with its JSON Schemas computed once (at config load). */
export interface CompiledTool {
  readonly name: string;
  readonly definition: LocalTool;
  /** The `tools/list` entry. */
  readonly listed: Record<string, unknown>;
}

/**
 * Compile one tool: its `input` (and `output`) schema become JSON Schema objects.
 * @throws Error when `input` is not an object schema or cannot be expressed as JSON Schema.
 */
export function compileTool(name: string, definition: LocalTool): CompiledTool {
  const inputSchema = jsonSchema(definition.input, "input");
  if (inputSchema.type !== "object") throw new Error("input must be an object schema (v.object(...))");
  const outputSchema = definition.output ? jsonSchema(definition.output, "output") : undefined;
  if (outputSchema && outputSchema.type !== "object") throw new Error("output must be an object schema (v.object(...))");
  const { title, description, annotations } = definition;
  const listed = {
    name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    ...(annotations ? { annotations: { ...annotations } } : {}),
  };
  return { name, definition, listed };
}

/**
 * Validate the arguments, run the tool and shape its return value as a tool result. Invalid arguments and a
 * throwing `run` become `isError` results (the model can correct itself); the message never carries a stack.
 */
export async function callTool(tool: CompiledTool, args: unknown, ctx: LocalToolContext): Promise<LocalToolResult> {
  const parsed = await v.safeParseAsync(tool.definition.input, args ?? {});
  if (!parsed.success) return errorResult(`Invalid arguments for tool "${tool.name}": ${formatIssues(parsed.issues)}`);
  let value: unknown;
  try {
    value = await tool.definition.run(parsed.output, ctx);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return errorResult(describeError(error));
  }
  return toResult(tool, value);
}

async function toResult(tool: CompiledTool, value: unknown): Promise<LocalToolResult> {
  if (isToolResult(value)) return value;
  if (tool.definition.output) {
    const checked = await v.safeParseAsync(tool.definition.output, value);
    if (!checked.success) return errorResult(`Tool "${tool.name}" returned output that does not match its schema: ${formatIssues(checked.issues)}`);
    return { content: [{ type: "text", text: JSON.stringify(checked.output) }], structuredContent: checked.output as Record<string, unknown> };
  }
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  return { content: [{ type: "text", text: value === undefined ? "" : JSON.stringify(value) }] };
}

function isToolResult(value: unknown): value is LocalToolResult {
  return !!value && typeof value === "object" && Array.isArray((value as { content?: unknown }).content);
}

function errorResult(text: string): LocalToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`).join("; ");
}

function jsonSchema(schema: LocalTool["input"], what: string): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    json = toJsonSchema(schema as v.GenericSchema, { errorMode: "ignore" }) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${what} schema cannot be expressed as JSON Schema: ${describeError(error)}`);
  }
  // Clients validate with their own draft; the draft-07 marker only gets in the way.
  const { $schema: _ignored, ...rest } = json;
  return rest;
}
