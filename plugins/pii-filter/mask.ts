import type { PiiKind } from "./kinds.ts";

// Vendor prefixes are public and tell a reader what leaked; everything after them is secret.
const SECRET_PREFIX = /^(?:AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|xox[abpr]-|[rs]k_(?:live|test)_|AIza|sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?|e[wy]J?)/;

/**
 * A masked stand-in that keeps a short, non-identifying hint: first letter and domain of an email, last four
 * digits of a card, phone, SSN or IBAN, the first block of an IP, the public prefix of a token.
 */
export function maskValue(kind: PiiKind, value: string, c: string): string {
  switch (kind) {
    case "email": {
      const first = String.fromCodePoint(value.codePointAt(0) ?? 42);
      return `${first}${c.repeat(3)}${value.slice(value.lastIndexOf("@"))}`;
    }
    case "card":
    case "phone":
    case "ssn":
      return keepLast(value, 4, /\d/, c);
    case "iban":
      return value.slice(0, 2) + keepLast(value.slice(2), 4, /[A-Z0-9]/, c);
    case "ipv4":
      return `${value.slice(0, value.indexOf("."))}.${c}.${c}.${c}`;
    case "ipv6":
      return value.startsWith("::") ? `::${c.repeat(4)}` : `${value.slice(0, value.indexOf(":"))}:${c.repeat(4)}`;
    case "private-key": {
      const header = /^-----BEGIN [A-Z0-9 ]{1,60}-----/.exec(value)?.[0] ?? "";
      const footer = /-----END [A-Z0-9 ]{1,60}-----$/.exec(value)?.[0] ?? "";
      return [header, c.repeat(3), footer].filter(Boolean).join("\n");
    }
    case "bearer-token":
      return c.repeat(8);
    default:
      return (SECRET_PREFIX.exec(value)?.[0] ?? "") + c.repeat(8);
  }
}

/** Replace every character matching `keep` except the last `n` such characters; separators stay. */
function keepLast(value: string, n: number, keep: RegExp, c: string): string {
  let remaining = 0;
  for (const ch of value) if (keep.test(ch)) remaining++;
  let out = "";
  for (const ch of value) {
    if (keep.test(ch)) {
      out += remaining > n ? c : ch;
      remaining--;
    } else out += ch;
  }
  return out;
}
