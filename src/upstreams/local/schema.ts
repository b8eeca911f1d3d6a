import * as v from "valibot";
import { strict } from "../../_utils/strict-object.ts";

const NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;
const NAME_MESSAGE = 'expected 1-64 letters, digits, "_" or "-"';
const PREFIX_RE = /^[a-zA-Z0-9_-]{1,32}$/;


const text = () => v.string("expected a string");
const optionalText = () => v.optional(text());
const positiveInt = () =>
  v.pipe(v.number("expected a positive integer"), v.check((n) => Number.isInteger(n) && n > 0, "expected a positive integer"));
const fn = (message: string) => v.custom<(...args: never[]) => unknown>((x) => typeof x === "function", message);
const valibotSchema = () =>
  v.custom<v.GenericSchema>(
    (x) => !!x && typeof x === "object" && (x as { kind?: unknown }).kind === "schema" && typeof (x as Record<string, unknown>)["~run"] === "function",
    "expected a valibot schema, e.g. v.object({ ... })",
  );

/** Names of tools, prompts and resources (the keys of their records). */
export const LocalNameSchema = v.pipe(v.string(), v.regex(NAME_RE, NAME_MESSAGE));

/** A `defineTool()` value: data fields checked here; `input`/`output` must be valibot schemas and `run` a function. */
export const LocalToolSchema = strict({
  title: optionalText(),
  description: optionalText(),
  input: valibotSchema(),
  output: v.optional(valibotSchema()),
  annotations: v.optional(
    strict({
      title: optionalText(),
      readOnlyHint: v.optional(v.boolean("expected true or false")),
      destructiveHint: v.optional(v.boolean("expected true or false")),
      idempotentHint: v.optional(v.boolean("expected true or false")),
      openWorldHint: v.optional(v.boolean("expected true or false")),
    }),
  ),
  timeout: v.optional(positiveInt()),
  run: fn("expected a function run(args, ctx)"),
});

const promptMessage = strict({
  role: v.picklist(["user", "assistant"], 'expected "user" or "assistant"'),
  text: text(),
});

/** A `definePrompt()` value. The template itself is parsed (and its variables checked) by the upstream's compiler. */
export const LocalPromptSchema = strict({
  title: optionalText(),
  description: optionalText(),
  arguments: v.optional(
    v.array(
      strict({
        name: v.pipe(v.string(NAME_MESSAGE), v.regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, "expected a Liquid variable name (letters, digits, _)")),
        description: optionalText(),
        required: v.optional(v.boolean("expected true or false")),
        values: v.optional(v.array(text(), "expected an array of strings")),
      }),
      "expected an array of { name, description?, required? }",
    ),
  ),
  template: v.union(
    [text(), v.pipe(v.array(promptMessage), v.minLength(1, "expected at least one message"))],
    "expected a template string or an array of { role, text } messages",
  ),
});

const KINDS = ["text", "blob", "file", "dir", "compute"] as const;

/** A `defineResource()` value: exactly one of `text`, `blob`, `file`, `dir`, `compute`. */
export const LocalResourceSchema = v.pipe(
  strict({
    uri: v.optional(v.pipe(text(), v.check((u) => URL.canParse(u), "expected an absolute URI, e.g. local://name"))),
    title: optionalText(),
    description: optionalText(),
    mimeType: optionalText(),
    text: optionalText(),
    blob: v.optional(v.instance(Uint8Array, "expected a Uint8Array or Buffer")),
    file: v.optional(v.pipe(text(), v.nonEmpty("expected a file path"))),
    dir: v.optional(v.pipe(text(), v.nonEmpty("expected a directory"))),
    allowedRoot: v.optional(v.pipe(text(), v.nonEmpty("expected a directory"))),
    compute: v.optional(fn("expected a function compute(uri, ctx)")),
  }),
  v.check((r) => KINDS.filter((k) => r[k] !== undefined).length === 1, "expected exactly one of text, blob, file, dir or compute"),
  v.check((r) => r.allowedRoot === undefined || r.file !== undefined, "allowedRoot applies to file resources only"),
);

/** The `local` section: how the local entries appear next to the upstreams. */
export const LocalSectionSchema = strict({
  enabled: v.optional(v.boolean("expected true or false")),
  prefix: v.optional(v.union([v.literal(false), v.pipe(v.string(), v.regex(PREFIX_RE, 'expected 1-32 letters, digits, "_" or "-"'))], "expected a prefix or false")),
  timeout: v.optional(positiveInt()),
  allowedRoot: v.optional(v.pipe(text(), v.nonEmpty("expected a directory"))),
});

/** The four top-level config keys that declare local entries. */
export const LocalEntriesSchema = v.object({
  tools: v.optional(v.record(LocalNameSchema, LocalToolSchema, "expected an object of tools")),
  prompts: v.optional(v.record(LocalNameSchema, LocalPromptSchema, "expected an object of prompts")),
  resources: v.optional(v.record(LocalNameSchema, LocalResourceSchema, "expected an object of resources")),
  local: v.optional(LocalSectionSchema),
});

/**
 * Placeholder for a top-level key that holds code (`tools`, `prompts`, `resources`) in the gateway schema: only
 * its type is used there; resolveConfig takes the value out and validates it with {@link LocalEntriesSchema}.
 */
export function codeRecord<T>() {
  return v.custom<T>((x) => !!x && typeof x === "object" && !Array.isArray(x), "expected an object");
}
