import { createHash } from "node:crypto";

/** Names every MCP client accepts for tools and prompts. */
export const VALID_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX = 64;

/**
 * The name a client sees for an upstream entry: `<prefix><separator><name>`, or `name` when the prefix is off.
 * Invalid characters become `_`; a name that had to change or is too long gets a stable 8-hex hash suffix
 * of the full original, so it stays unique, deterministic across restarts and ≤ 64 characters.
 */
export function exposedName(prefix: string | false, separator: string, name: string): string {
  const raw = prefix === false ? name : `${prefix}${separator}${name}`;
  if (VALID_NAME.test(raw)) return raw;
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  const safe = raw.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, MAX - hash.length - 1);
  return `${safe}_${hash}`;
}
