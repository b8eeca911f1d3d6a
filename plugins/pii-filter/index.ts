/**
 * `pii-filter`: finds personal data and secrets in tool arguments and in tool, prompt and resource results,
 * and masks, redacts or blocks them.
 *
 * ```ts
 * plugins: [piiFilter({ action: "redact", direction: "output", allow: ["support@example.com"] })]
 * ```
 */
import { GatewayError } from "../../src/errors.ts";
import { definePlugin, type GatewayPlugin, type HookContext, type HookResult } from "../../src/plugins/types.ts";
import { PII_KINDS, type PiiKind } from "./kinds.ts";
import {
  createTextFilter,
  filterParams,
  filterPromptResult,
  filterResourceResult,
  filterToolResult,
  type PiiAction,
  type TextFilter,
  type TextFilterOptions,
} from "./redact.ts";

export { PII_KINDS, type PiiKind, type PiiMatch } from "./kinds.ts";
export { findPii } from "./scan.ts";
export { maskValue } from "./mask.ts";
export type { PiiAction } from "./redact.ts";

export interface PiiFilterOptions extends Pick<GatewayPlugin, "priority" | "mode" | "when" | "timeout" | "onError"> {
  /** Kinds to look for. Default: every kind in `PII_KINDS`. */
  kinds?: readonly PiiKind[];
  /**
   * `mask` (default) keeps a short hint (`j***@example.com`, `**** **** **** 4242`), `redact` writes
   * `[REDACTED:<kind>]`, `block` rejects the call with a JSON-RPC error naming the kinds (never the values).
   * Named `action` because `mode` is the plugin's enforce/permissive switch, as on every plugin.
   */
  action?: PiiAction;
  /** `input`: tool and prompt arguments; `output`: tool, prompt and resource results; `both` (default). */
  direction?: "both" | "input" | "output";
  /** Exact matched strings that are never touched (e.g. your own support address). */
  allow?: readonly string[];
  /** Character used by `mask` (default `*`). */
  maskChar?: string;
}

type Json = Record<string, unknown>;
type Outcome = { block: { message: string; data: Json } } | { value: Json } | undefined;

const ACTIONS: readonly PiiAction[] = ["mask", "redact", "block"];
const DIRECTIONS = ["both", "input", "output"] as const;

/** The PII filter plugin. Options are checked here, once; a bad option throws a `CONFIG_INVALID` GatewayError. */
export function piiFilter(options: PiiFilterOptions = {}): GatewayPlugin {
  const { kinds = PII_KINDS, action = "mask", direction = "both", allow = [], maskChar = "*", ...plugin } = options;
  validate(kinds, action, direction, maskChar);
  const textOptions: TextFilterOptions = { kinds, action, allow: new Set(allow), maskChar };

  /** Rewrite `value` with a fresh filter; report what was found without ever keeping a matched value. */
  const check = (value: Json, rewrite: (v: Json, f: TextFilter) => Json, what: string, ctx: HookContext): Outcome => {
    const found = new Set<PiiKind>();
    const next = rewrite(value, createTextFilter(textOptions, found));
    if (found.size === 0) return undefined;
    const list = PII_KINDS.filter((k) => found.has(k));
    if (action === "block") {
      return { block: { message: `Blocked by pii-filter: ${list.join(", ")} found in ${what}`, data: { kinds: list } } };
    }
    ctx.log.debug(`${action === "mask" ? "masked" : "redacted"} ${list.join(", ")} in ${what} of ${ctx.name ?? ctx.method}`);
    return { value: next };
  };

  const input = direction !== "output";
  const output = direction !== "input";
  return definePlugin({
    name: "pii-filter",
    ...plugin,
    hooks: {
      ...(input && {
        "tools/call:before": ({ params }, ctx) => lift(check(params, filterParams, "the tool arguments", ctx), (p) => ({ params: p })),
        "prompts/get:before": ({ params }, ctx) => lift(check(params, filterParams, "the prompt arguments", ctx), (p) => ({ params: p })),
      }),
      ...(output && {
        "tools/call:after": ({ result }, ctx) => lift(check(result, filterToolResult, "the tool result", ctx), (r) => ({ result: r })),
        "prompts/get:after": ({ result }, ctx) => lift(check(result, filterPromptResult, "the prompt messages", ctx), (r) => ({ result: r })),
        "resources/read:after": ({ result }, ctx) => lift(check(result, filterResourceResult, "the resource contents", ctx), (r) => ({ result: r })),
      }),
    },
  });
}

function lift<P>(outcome: Outcome, wrap: (value: Json) => P): HookResult<P> {
  if (!outcome) return undefined;
  return "block" in outcome ? outcome : { payload: wrap(outcome.value) };
}

function validate(kinds: readonly PiiKind[], action: PiiAction, direction: string, maskChar: string): void {
  const fail = (message: string) => {
    throw new GatewayError("CONFIG_INVALID", `pii-filter: ${message}`);
  };
  const unknown = kinds.filter((k) => !(PII_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0) fail("`kinds` is empty; leave it out to detect every kind");
  if (unknown.length > 0) fail(`unknown kind ${unknown.map((k) => `"${k}"`).join(", ")}; known kinds: ${PII_KINDS.join(", ")}`);
  if (!ACTIONS.includes(action)) fail(`\`action\` must be one of ${ACTIONS.join(", ")}, got "${String(action)}"`);
  if (!(DIRECTIONS as readonly string[]).includes(direction)) fail(`\`direction\` must be one of ${DIRECTIONS.join(", ")}, got "${direction}"`);
  if (typeof maskChar !== "string" || maskChar.length === 0) fail("`maskChar` must be a non-empty string");
}
