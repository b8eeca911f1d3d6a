import { Liquid, Tag, type Template, type TagToken, type TopLevelToken } from "liquidjs";
import { GatewayError, JsonRpcCode } from "../../errors.ts";
import type { LocalPrompt, LocalPromptMessage, LocalPromptTemplate } from "./define.ts";

/** A prompt with its template parsed once (at config load or `setPromptTemplate`). */
export interface CompiledPrompt {
  readonly name: string;
  readonly definition: LocalPrompt;
  readonly template: LocalPromptTemplate;
  readonly messages: readonly { role: LocalPromptMessage["role"]; parsed: Template[] }[];
}

/** Tags that read other templates (from disk, by default): refused when a template is parsed. */
const FILE_TAGS = ["include", "render", "layout"];

/** Property names that lead to prototypes: refused in templates (own-property lookup refuses them at render too). */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Bounds on a single parse/render, so a template cannot hang or exhaust the gateway. */
const LIMITS = { parseLimit: 100_000, renderLimit: 1_000, memoryLimit: 10_000_000 };

/**
 * A Liquid engine for prompt templates: no file system (in-memory, empty template map, file tags refused),
 * own properties only (no `__proto__`/`constructor`), unknown filters and variables are errors, and every
 * parse and render is bounded in size and time. One per upstream: engines hold no shared state.
 */
export function createPromptEngine(): Liquid {
  const liquid = new Liquid({
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    ownPropertyOnly: true,
    strictFilters: true,
    strictVariables: true,
    lenientIf: true,
    ...LIMITS,
  });
  class RefusedTag extends Tag {
    constructor(token: TagToken, remain: TopLevelToken[], engine: Liquid) {
      super(token, remain, engine);
      throw new Error(`the {% ${token.name} %} tag is not allowed in prompt templates`);
    }
    *render(): Generator<unknown, void, unknown> {}
  }
  for (const tag of FILE_TAGS) liquid.registerTag(tag, RefusedTag);
  return liquid;
}

/**
 * Parse a prompt's template(s) and check that they only use declared arguments.
 * @throws Error with a readable message when a template does not parse or uses an undeclared variable.
 */
export function compilePrompt(engine: Liquid, name: string, definition: LocalPrompt, template: LocalPromptTemplate = definition.template): CompiledPrompt {
  const declared = new Set((definition.arguments ?? []).map((a) => a.name));
  const list: readonly LocalPromptMessage[] = typeof template === "string" ? [{ role: "user", text: template }] : template;
  if (!Array.isArray(list) || list.length === 0) throw new Error("expected a template string or a non-empty array of { role, text } messages");
  const messages = list.map((message, index) => {
    const where = typeof template === "string" ? "template" : `message ${index}`;
    if (message?.role !== "user" && message?.role !== "assistant") throw new Error(`${where}: role must be "user" or "assistant"`);
    if (typeof message.text !== "string") throw new Error(`${where}: text must be a string`);
    let parsed: Template[];
    try {
      parsed = engine.parse(message.text);
    } catch (error) {
      throw new Error(`${where} does not parse: ${firstLine(error)}`);
    }
    const unknown = engine.globalVariablesSync(parsed).filter((variable) => !declared.has(variable));
    if (unknown.length > 0) {
      const allowed = declared.size > 0 ? [...declared].join(", ") : "none";
      throw new Error(`${where} uses undeclared variable(s) ${unknown.join(", ")} (declared arguments: ${allowed})`);
    }
    const forbidden = engine.variableSegmentsSync(parsed).flat(2).find((segment) => typeof segment === "string" && PROTOTYPE_KEYS.has(segment));
    if (forbidden !== undefined) throw new Error(`${where} reads "${String(forbidden)}", which prompt templates may not access`);
    return { role: message.role, parsed };
  });
  return { name, definition, template, messages };
}

/** The `prompts/list` entry of a prompt. */
export function listPrompt(prompt: CompiledPrompt): Record<string, unknown> {
  const { title, description, arguments: args = [] } = prompt.definition;
  return {
    name: prompt.name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    arguments: args.map((a) => ({
      name: a.name,
      ...(a.description === undefined ? {} : { description: a.description }),
      ...(a.required === undefined ? {} : { required: a.required }),
    })),
  };
}

/**
 * Validate `args` against the declared arguments, then render every message.
 * @throws GatewayError (-32602) for a missing required, unknown or non-string argument; (-32603) when rendering fails.
 */
export async function renderPrompt(engine: Liquid, prompt: CompiledPrompt, args: unknown): Promise<Record<string, unknown>> {
  const values = checkArguments(prompt, args);
  const messages = [];
  for (const message of prompt.messages) {
    let text: string;
    try {
      text = await engine.render(message.parsed, values);
    } catch (error) {
      throw new GatewayError("INTERNAL", `Prompt "${prompt.name}" could not be rendered: ${firstLine(error)}`, { status: 500, rpcCode: JsonRpcCode.InternalError });
    }
    messages.push({ role: message.role, content: { type: "text", text } });
  }
  const { description } = prompt.definition;
  return { ...(description === undefined ? {} : { description }), messages };
}

function checkArguments(prompt: CompiledPrompt, args: unknown): Record<string, string | null> {
  if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) throw invalidParams("arguments must be an object of strings");
  const given = (args ?? {}) as Record<string, unknown>;
  const declared = prompt.definition.arguments ?? [];
  const names = new Set(declared.map((a) => a.name));
  const problems: string[] = [];
  for (const key of Object.keys(given)) if (!names.has(key)) problems.push(`unknown argument "${key}"`);
  const values: Record<string, string | null> = {};
  for (const arg of declared) {
    const value = Object.hasOwn(given, arg.name) ? given[arg.name] : undefined;
    if (value === undefined) {
      if (arg.required) problems.push(`missing required argument "${arg.name}"`);
      // Present but empty: `{% if arg %}` works and strict variables do not fail on an optional argument.
      values[arg.name] = null;
    } else if (typeof value !== "string") {
      problems.push(`argument "${arg.name}" must be a string`);
    } else {
      values[arg.name] = value;
    }
  }
  if (problems.length > 0) throw invalidParams(`Invalid arguments for prompt "${prompt.name}": ${problems.join("; ")}`);
  return values;
}

function invalidParams(message: string): GatewayError {
  return new GatewayError("BAD_REQUEST", message, { status: 400, rpcCode: JsonRpcCode.InvalidParams });
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!;
}
