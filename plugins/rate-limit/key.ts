import { createHash } from "node:crypto";
import type { HookContext } from "../../src/index.ts";

/** What a limit is counted per. `identity` falls back to the session when the caller is anonymous. */
export type RateLimitKeyPart = "identity" | "tool" | "upstream" | "server" | "session";

/** One part, several parts (counted per combination), or your own function of the call. */
export type RateLimitKey = RateLimitKeyPart | RateLimitKeyPart[] | ((ctx: HookContext) => string);

/** `kind` is safe to show a client (`session`, `identity+tool`, `custom`); `id` is a digest, never the raw value. */
export interface ResolvedKey {
  kind: string;
  id: string;
}

const PARTS = new Set<string>(["identity", "tool", "upstream", "server", "session"]);

/** Validate a key option once and turn it into a function of the hook context. */
export function compileKey(key: RateLimitKey): (ctx: HookContext) => ResolvedKey {
  if (typeof key === "function") return (ctx) => ({ kind: "custom", id: digest(key(ctx)) });
  const parts = Array.isArray(key) ? key : [key];
  const unknown = parts.filter((part) => !PARTS.has(part));
  if (parts.length === 0 || unknown.length > 0) {
    throw new TypeError(`key must be one or more of ${[...PARTS].join(", ")} or a function, got ${JSON.stringify(key)}`);
  }
  return (ctx) => {
    const pairs = parts.map((part) => keyPart(part, ctx));
    return { kind: pairs.map(([kind]) => kind).join("+"), id: digest(JSON.stringify(pairs)) };
  };
}

function keyPart(part: RateLimitKeyPart, ctx: HookContext): [kind: string, value: string] {
  switch (part) {
    case "identity":
      return ctx.identity ? ["identity", ctx.identity.subject] : ["session", ctx.sessionId];
    case "session":
      return ["session", ctx.sessionId];
    case "tool":
      return ["tool", ctx.name ?? ""];
    case "upstream":
      return ["upstream", ctx.upstream ?? ""];
    case "server":
      return ["server", ctx.server ?? ""];
  }
}

/** Keeps identities and session ids out of store keys (and bounds key length). */
function digest(value: string): string {
  return createHash("sha256").update(value).digest("base64url").slice(0, 22);
}
