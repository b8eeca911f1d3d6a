/** What every masked value becomes. */
export const MASK = "****";

const SECRET_WORDS = new Set([
  "authorization", "token", "tokens", "password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets",
  "cookie", "cookies", "credential", "credentials", "apikey", "signature", "bearer",
  // `users: { name: password }` (basic auth, admin users).
  "users",
]);
const SECRET_PAIRS = new Set(["api key", "private key", "access key", "client secret", "session key", "set cookie"]);
/** A key ending in one of these names something about a secret, not the secret (`tokenUrl`, `apiKeyHeader`, `maxTokenBytes`). */
const DESCRIPTIVE_SUFFIXES = new Set([
  "url", "uri", "endpoint", "path", "type", "claim", "header", "prefix", "id", "ids", "count", "ttl", "ms", "sec",
  "bytes", "expires", "expiry", "at", "name", "names", "file", "mode", "length", "algorithm", "algorithms", "scopes",
]);
const SECRET_QUERY = /^(?:access_token|id_token|refresh_token|token|api[_-]?key|apikey|key|secret|client_secret|password|pass|pwd|sig|signature|auth|code)$/i;

/** True when an object key names a secret (`authorization`, `apiKey`, `client_secret`, `GITHUB_TOKEN`, `Set-Cookie`…). */
export function isSecretKey(key: string): boolean {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  if (words.length === 0 || DESCRIPTIVE_SUFFIXES.has(words.at(-1)!)) return false;
  if (words.some((word) => SECRET_WORDS.has(word))) return true;
  return words.some((word, i) => i > 0 && SECRET_PAIRS.has(`${words[i - 1]} ${word}`));
}

/** Masks secrets inside one string: URL passwords, secret query parameters and `Bearer`/`Basic` credentials. */
export function maskString(value: string): string {
  let out = value.replace(/\b((?:bearer|basic)[ \t]+)[\w.~+/=-]{4,}/gi, `$1${MASK}`);
  if (out.includes("://")) {
    out = out.replace(/([a-z][\w+.-]*:\/\/[^\s:/?#@]*):[^\s@/?#]*@/gi, `$1:${MASK}@`);
    out = out.replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (match, sep: string, name: string) => (SECRET_QUERY.test(name) ? `${sep}${name}=${MASK}` : match));
  }
  return out;
}

/**
 * A deep copy of `value` with every secret replaced by `****`: string values under secret-looking keys, and secrets
 * inside any string (see {@link maskString}). Cycle-safe (an object inside itself becomes `"[Circular]"`); never
 * mutates its input. For everything the gateway shows: admin API responses, exported catalogs, logs of config.
 */
export function maskSecrets<T>(value: T, options: MaskOptions = {}): T {
  return mask(value, false, new WeakSet(), new Set(options.allValuesOf ?? [])) as T;
}

/** Options of {@link maskSecrets}. */
export interface MaskOptions {
  /**
   * Keys whose object value has every value masked, whatever its keys are called (`["headers", "env"]` for stored
   * upstream configs: a header named `X-Auth` or an env var named `DB` can hold a secret too).
   */
  allValuesOf?: readonly string[];
}

/** The dotted path of the first string that still holds a `****` placeholder: input exported masked, which must not be stored. */
export function findMasked(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return value.includes(MASK) ? path : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = findMasked(item, path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

function mask(value: unknown, secret: boolean, seen: WeakSet<object>, allValuesOf: ReadonlySet<string>): unknown {
  if (typeof value === "string") return secret ? MASK : maskString(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => mask(item, secret, seen, allValuesOf));
    if (value instanceof Headers) {
      return Object.fromEntries([...value].map(([k, v]) => [k, secret || isSecretKey(k) ? MASK : maskString(v)]));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const all = allValuesOf.has(key) && item !== null && typeof item === "object" && !Array.isArray(item);
      out[key] = mask(item, secret || all || isSecretKey(key), seen, allValuesOf);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
