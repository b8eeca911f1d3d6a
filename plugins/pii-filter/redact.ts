/**
 * Applying detections: rewriting one string, and walking MCP payloads to the strings that carry content.
 * Walkers never mutate: they return the same object when nothing changed and a shallow copy along each changed path.
 */
import type { PiiKind } from "./kinds.ts";
import { maskValue } from "./mask.ts";
import { findPii } from "./scan.ts";

export type PiiAction = "mask" | "redact" | "block";

/** Rewrites one string and records which kinds it saw. */
export type TextFilter = (text: string) => string;

export interface TextFilterOptions {
  kinds: readonly PiiKind[];
  action: PiiAction;
  allow: ReadonlySet<string>;
  maskChar: string;
}

/** A filter bound to one hook call: every kind it acts on is added to `found` (values are never kept). */
export function createTextFilter(opts: TextFilterOptions, found: Set<PiiKind>): TextFilter {
  return (text) => {
    let out = "";
    let at = 0;
    for (const m of findPii(text, opts.kinds)) {
      const value = text.slice(m.start, m.end);
      if (opts.allow.has(value)) continue;
      found.add(m.kind);
      if (opts.action === "block") continue;
      out += text.slice(at, m.start) + (opts.action === "mask" ? maskValue(m.kind, value, opts.maskChar) : `[REDACTED:${m.kind}]`);
      at = m.end;
    }
    return at === 0 ? text : out + text.slice(at);
  };
}

type Json = Record<string, unknown>;
const MAX_DEPTH = 512;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every string leaf of arbitrary JSON (object keys untouched). Binary by MCP convention, and skipped:
 * any `blob`, and the base64 `data` of image and audio blocks.
 */
export function filterJson(value: unknown, filter: TextFilter, depth = 0): unknown {
  if (typeof value === "string") return filter(value);
  if (typeof value !== "object" || value === null) return value;
  // Fail closed (the runner rejects the call) rather than recurse without bound or pass content unchecked.
  if (depth > MAX_DEPTH) throw new Error(`payload is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = filterJson(item, filter, depth + 1);
      if (next !== item) (copy ??= value.slice())[i] = next;
    });
    return copy ?? value;
  }
  const object = value as Json;
  const binary = object["type"] === "image" || object["type"] === "audio";
  let copy: Json | undefined;
  for (const [key, item] of Object.entries(object)) {
    if (key === "blob" || (binary && key === "data")) continue;
    const next = filterJson(item, filter, depth + 1);
    if (next !== item) (copy ??= { ...object })[key] = next;
  }
  return copy ?? object;
}

/** Replace `obj[key]` when the filter changes it. */
function withField<T extends Json>(obj: T, key: string, filter: (v: unknown) => unknown): T {
  const before = obj[key];
  if (before === undefined) return obj;
  const after = filter(before);
  return after === before ? obj : { ...obj, [key]: after };
}

const stringOnly = (filter: TextFilter) => (v: unknown) => (typeof v === "string" ? filter(v) : v);

/** One content block: `text` of text blocks and of embedded text resources. Images, audio, blobs and links pass. */
export function filterContentBlock(block: unknown, filter: TextFilter): unknown {
  if (!isObject(block)) return block;
  if (block["type"] === "text") return withField(block, "text", stringOnly(filter));
  if (block["type"] === "resource") return withField(block, "resource", (r) => (isObject(r) ? withField(r, "text", stringOnly(filter)) : r));
  return block;
}

function mapArray(value: unknown, each: (item: unknown) => unknown): unknown {
  if (!Array.isArray(value)) return value;
  let copy: unknown[] | undefined;
  value.forEach((item, i) => {
    const next = each(item);
    if (next !== item) (copy ??= value.slice())[i] = next;
  });
  return copy ?? value;
}

/** `tools/call` and `prompts/get` params: every string in `arguments`. */
export function filterParams(params: Json, filter: TextFilter): Json {
  return withField(params, "arguments", (args) => filterJson(args, filter));
}

/** `tools/call` result: `content` blocks and `structuredContent`. */
export function filterToolResult(result: Json, filter: TextFilter): Json {
  const withContent = withField(result, "content", (content) => mapArray(content, (b) => filterContentBlock(b, filter)));
  return withField(withContent, "structuredContent", (sc) => filterJson(sc, filter));
}

/** `prompts/get` result: each message's content (one block, or an array of blocks). */
export function filterPromptResult(result: Json, filter: TextFilter): Json {
  const filterMessage = (message: unknown) =>
    isObject(message)
      ? withField(message, "content", (c) => (Array.isArray(c) ? mapArray(c, (b) => filterContentBlock(b, filter)) : filterContentBlock(c, filter)))
      : message;
  return withField(result, "messages", (messages) => mapArray(messages, filterMessage));
}

/** `resources/read` result: `text` of each content item (`blob` items pass). */
export function filterResourceResult(result: Json, filter: TextFilter): Json {
  return withField(result, "contents", (contents) => mapArray(contents, (c) => (isObject(c) ? withField(c, "text", stringOnly(filter)) : c)));
}
