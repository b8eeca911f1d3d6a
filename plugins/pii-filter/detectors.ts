/**
 * Detectors for personal data and network identifiers. Each is a regex with bounded quantifiers and
 * lookaround boundaries (so a run of word characters is tried from one position only), confirmed by a checksum
 * or structural check from checks.ts.
 */
import { IBAN_LENGTHS, ibanChecksum, ipv6Hextets, isCardNumber, isIssuableSsn } from "./checks.ts";
import { collect, type PiiMatch } from "./kinds.ts";

const EMAIL =
  /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}_][\p{L}\p{N}._%+'-]{0,63}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.){1,8}(\p{L}{2,24})(?![\p{L}\p{N}_-]|\.[\p{L}\p{N}])/gu;
// Asset names like `logo@2x.png` have the shape of an address.
const FILE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "avif", "js", "mjs", "cjs", "ts", "tsx", "jsx", "css", "scss", "html", "htm", "json", "yaml", "yml", "xml", "txt", "lock", "log", "csv", "pdf"]);

/** Addresses with a dotted domain and an alphabetic TLD (Unicode letters allowed). */
export function detectEmails(text: string): PiiMatch[] {
  return collect(text, EMAIL, "email", (m) => {
    const local = m[0].slice(0, m[0].lastIndexOf("@"));
    return !local.endsWith(".") && !local.includes("..") && !FILE_EXTENSIONS.has((m[1] ?? "").toLowerCase());
  });
}

const CARD =
  /(?<![\w.-])(?:\d{13,19}|\d{4}([ -])(?:\d{6}\1\d{4,5}|\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?))(?![\w-]|[.,]\d|[ -]\d{4})/g;

/** 13–19 digit card numbers, compact or printed in fours (4-4-4-4, 4-4-4-2, 4-4-4-4-3) or 4-6-5 / 4-6-4; Luhn and IIN checked. */
export function detectCards(text: string): PiiMatch[] {
  return collect(text, CARD, "card", (m) => isCardNumber(m[0].replace(/\D/g, "")));
}

const IBAN_START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?= ?[A-Za-z0-9])/g;
const isAlnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);

/** IBANs in either case, compact or space-grouped: country length table, then mod-97. */
export function detectIbans(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  let from = 0;
  for (const m of text.matchAll(IBAN_START)) {
    const start = m.index ?? 0;
    const length = IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (start < from || length === undefined) continue;
    let compact = m[0];
    let i = start + 4;
    // Bounded by the country's length (≤ 34 characters plus single spaces).
    while (compact.length < length && i < text.length) {
      const c = text[i];
      if (c === " " && isAlnum(text[i + 1])) {
        i++;
        continue;
      }
      if (!isAlnum(c)) break;
      compact += c;
      i++;
    }
    if (compact.length !== length || isAlnum(text[i]) || !ibanChecksum(compact.toUpperCase())) continue;
    out.push({ kind: "iban", start, end: i });
    from = i;
  }
  return out;
}

const SSN = /(?<![\w./-])(\d{3})([ -])(\d{2})\2(\d{4})(?![\w-]|[.,]\d|[ -]\d)/g;

/** US SSNs written `123-45-6789` or `123 45 6789` in issuable ranges (a bare 9-digit number is too ambiguous). */
export function detectSsns(text: string): PiiMatch[] {
  return collect(text, SSN, "ssn", (m) => isIssuableSsn(m[1] ?? "", m[3] ?? "", m[4] ?? ""));
}

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = new RegExp(String.raw`(?<![\w.])${OCTET}(?:\.${OCTET}){3}(?!\w|\.\d)`, "g");
const VERSION_CONTEXT = /(?:\bv|\bver|\bversion|\brelease|\bbuild)\.?\s?$/i;

/** Dotted-quad IPv4 without leading zeros, unless the words before it call it a version. */
export function detectIpv4(text: string): PiiMatch[] {
  return collect(text, IPV4, "ipv4", (_m, start) => !VERSION_CONTEXT.test(text.slice(Math.max(0, start - 10), start)));
}

const IPV6 = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:]|\.\d)/g;

/** IPv6 in full, compressed or IPv4-mapped form; needs two hextets and a digit, so `::`, `::1` and `dead::beef` pass. */
export function detectIpv6(text: string): PiiMatch[] {
  return collect(text, IPV6, "ipv6", (m) => ipv6Hextets(m[0]) >= 2 && /\d/.test(m[0]));
}
