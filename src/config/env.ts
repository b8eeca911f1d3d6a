import type { ConfigIssue } from "../errors.ts";

/** `${env.NAME}`, or `$${env.NAME}` which escapes to the literal text `${env.NAME}`. */
const REFERENCE_RE = /(\$?)\$\{env\.([^}]*)\}/g;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Result of {@link interpolateEnv}: the new value and one issue per unresolvable reference. */
export interface InterpolateEnvResult<T> {
  value: T;
  issues: ConfigIssue[];
}

/**
 * Replaces `${env.NAME}` in every string of a JSON-like value (objects, arrays, strings).
 * Returns a copy; functions and other non-plain values are kept as they are.
 */
export function interpolateEnv<T>(
  value: T,
  env: Record<string, string | undefined> = process.env,
): InterpolateEnvResult<T> {
  const issues: ConfigIssue[] = [];

  const walk = (input: unknown, path: string[]): unknown => {
    if (typeof input === "string") return replaceRefs(input, path.join("."));
    if (Array.isArray(input)) return input.map((item, i) => walk(item, [...path, String(i)]));
    if (isPlainObject(input)) {
      // fromEntries defines own properties, so a `__proto__` key stays data.
      return Object.fromEntries(
        Object.entries(input).map(([key, item]) => [key, walk(item, [...path, key])]),
      );
    }
    return input;
  };

  const replaceRefs = (input: string, path: string): string =>
    input.replace(REFERENCE_RE, (match, escape: string, name: string) => {
      if (escape) return match.slice(1);
      if (!NAME_RE.test(name)) {
        issues.push({ path, message: `invalid environment variable reference ${match}` });
        return match;
      }
      const resolved = env[name];
      if (resolved === undefined) {
        issues.push({ path, message: `environment variable ${name} is not set` });
        return match;
      }
      return resolved;
    });

  return { value: walk(value, []) as T, issues };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
