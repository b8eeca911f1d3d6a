import type * as v from "valibot";
import type { Identity } from "../../auth/types.ts";
import type { Logger } from "../../_utils/logger.ts";

/** Any valibot schema (what `defineTool` accepts as `input` and `output`). */
export type AnySchema = v.GenericSchema | v.GenericSchemaAsync;

/** What a local tool's `run` receives besides its arguments. */
export interface LocalToolContext {
  /** Aborted when the client cancels, the call times out or the gateway shuts down. */
  signal: AbortSignal;
  /** The authenticated caller, when the gateway knows it. */
  identity?: Identity;
  /** Tagged with the tool's name; never sent to clients. */
  log: Logger;
  /** Report progress to the client, when it asked for progress. */
  progress(progress: { progress: number; total?: number; message?: string }): void;
}

/** A tool result as MCP defines it (`content`, optional `structuredContent`, `isError`). */
export interface LocalToolResult {
  content: Record<string, unknown>[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** MCP tool annotations (hints for clients; never trusted for security). */
export interface LocalToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/**
 * A tool implemented by a function in the config. `input` must be an object schema (`v.object(...)`): it becomes
 * the tool's JSON Schema and validates the arguments before `run` is called.
 * `run` may return a string (one text block), a full tool result (`{ content }`), or any JSON value (sent as text,
 * and as `structuredContent` when `output` is declared).
 */
export interface LocalTool<TInput extends AnySchema = AnySchema, TOutput extends AnySchema | undefined = AnySchema | undefined> {
  title?: string;
  description?: string;
  input: TInput;
  output?: TOutput;
  annotations?: LocalToolAnnotations;
  /** Per-call timeout in ms. Default: `local.timeout`, else `defaults.timeout`. */
  timeout?: number;
  run(
    args: v.InferOutput<TInput>,
    ctx: LocalToolContext,
  ): Promise<ToolReturn<TOutput>> | ToolReturn<TOutput>;
}

type ToolReturn<TOutput> = TOutput extends AnySchema ? v.InferInput<TOutput> | LocalToolResult : unknown;

/** One declared prompt argument (MCP prompt arguments are strings). */
export interface LocalPromptArgument {
  name: string;
  description?: string;
  required?: boolean;
  /** Values offered by `completion/complete` (filtered by the typed prefix). */
  values?: readonly string[];
}

/** One message of a prompt; `text` is a Liquid template. */
export interface LocalPromptMessage {
  role: "user" | "assistant";
  text: string;
}

/** A prompt template: one user message, or several messages with roles. */
export type LocalPromptTemplate = string | readonly LocalPromptMessage[];

/**
 * A prompt rendered by a locked-down Liquid engine (no file access, no prototype access). Only declared
 * arguments are accepted; required ones must be present.
 */
export interface LocalPrompt {
  title?: string;
  description?: string;
  arguments?: readonly LocalPromptArgument[];
  template: LocalPromptTemplate;
}

/** What a computed resource returns: text, bytes, or either with its MIME type. */
export type ComputedContent = string | Uint8Array | { text: string; mimeType?: string } | { blob: Uint8Array; mimeType?: string };

/** What a computed resource's function receives. */
export interface LocalResourceContext {
  signal: AbortSignal;
  log: Logger;
}

interface ResourceCommon {
  /** Default `local://<name>` (for a `dir`: `local://<name>/{+path}`, and a custom one must end in `{+path}`). */
  uri?: string;
  title?: string;
  description?: string;
  /** Overrides MIME detection. */
  mimeType?: string;
}

/**
 * A resource: static `text` or `blob`, a `file` under `allowedRoot` (or `local.allowedRoot`), every file under a
 * `dir` (a resource template), or `compute`d per read. Files are watched while a client is subscribed.
 */
export type LocalResource = ResourceCommon &
  (
    | { text: string }
    | { blob: Uint8Array }
    | { file: string; allowedRoot?: string }
    /** Every file under a folder, as a resource template (default `local://<name>/{+path}`). */
    | { dir: string }
    | { compute: (uri: string, ctx: LocalResourceContext) => ComputedContent | Promise<ComputedContent> }
  );

/** Declare a local tool; `run`'s arguments are typed from the `input` schema. */
export function defineTool<TInput extends AnySchema, TOutput extends AnySchema | undefined = undefined>(
  tool: LocalTool<TInput, TOutput>,
): LocalTool<TInput, TOutput> {
  return tool;
}

/** Declare a local prompt (a Liquid template with declared arguments). */
export function definePrompt(prompt: LocalPrompt): LocalPrompt {
  return prompt;
}

/** Declare a local resource (static, file or computed). */
export function defineResource<T extends LocalResource>(resource: T): T {
  return resource;
}
