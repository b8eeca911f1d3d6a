import { isSealed, type SecretBox } from "../auth/secret-box.ts";
import { GatewayError } from "../errors.ts";
import { MASK, maskSecrets } from "../_utils/mask.ts";
import { InputError } from "./problem.ts";
import { STORED_CONFIG } from "./types.ts";

type Json = unknown;

/**
 * Encrypts, for storage, every string the admin API would mask in its output (secret-looking keys, header and
 * env values, URLs with passwords): what is hidden when shown is sealed when stored. Without a secret box, a
 * config that holds secrets is refused (422 naming the field) rather than stored in clear.
 */
export function sealSecrets<T extends Json>(value: T, box: SecretBox | undefined, field = "config"): T {
  return walk(value, maskSecrets(value, STORED_CONFIG), field, (original, path) => {
    if (isSealed(original)) return original;
    if (!box) {
      throw new InputError([{ field: path, message: "holds a credential; set GATEWAY_SECRET_KEY (or GATEWAY_SECRET_KEYS) so the gateway can store it encrypted" }]);
    }
    return box.seal(original);
  }) as T;
}

/** The stored form back in clear (for connecting); a value that cannot be opened is a clear error naming the field. */
export function openSecrets<T extends Json>(value: T, box: SecretBox | undefined, field = "config"): T {
  return mapStrings(value, field, (text, path) => {
    if (!isSealed(text)) return text;
    if (!box) throw new GatewayError("CONFIG_INVALID", `${path} is encrypted but no GATEWAY_SECRET_KEY is set`);
    return box.open(text);
  }) as T;
}

/** Sealed values shown as `****` (they are ciphertext, but still nobody's business). */
export function hideSealed<T extends Json>(value: T): T {
  return mapStrings(value, "", (text) => (isSealed(text) ? MASK : text)) as T;
}

/** Rebuilds `value`, replacing the strings whose masked twin differs (i.e. would be hidden) with `replace(original)`. */
function walk(value: Json, masked: Json, path: string, replace: (original: string, path: string) => string): Json {
  if (typeof value === "string") return value !== masked ? replace(value, path) : value;
  if (Array.isArray(value)) return value.map((item, i) => walk(item, (masked as Json[])[i], `${path}.${i}`, replace));
  if (value && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, (masked as Record<string, Json>)[key], `${path}.${key}`, replace);
    return out;
  }
  return value;
}

function mapStrings(value: Json, path: string, map: (text: string, path: string) => string): Json {
  if (typeof value === "string") return map(value, path);
  if (Array.isArray(value)) return value.map((item, i) => mapStrings(item, `${path}.${i}`, map));
  if (value && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, path ? `${path}.${key}` : key, map);
    return out;
  }
  return value;
}
