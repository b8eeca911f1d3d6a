import * as v from "valibot";

/** `v.strictObject` whose messages name the allowed keys: `unknown key (allowed: a, b)`, `expected an object`, `required`. */
export function strict<const TEntries extends v.ObjectEntries>(entries: TEntries, alsoAllowed: readonly string[] = []) {
  const allowed = [...Object.keys(entries), ...alsoAllowed].join(", ");
  return v.strictObject(entries, (issue) => {
    if (issue.expected === "Object") return "expected an object";
    if (issue.expected === "never") return `unknown key (allowed: ${allowed})`;
    return "required";
  });
}
