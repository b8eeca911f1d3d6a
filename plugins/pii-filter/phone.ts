import { collect, type PiiMatch } from "./kinds.ts";

/**
 * Phone candidates: E.164 written compactly, or digit groups joined by single separators with an optional
 * `+cc` and `(area)`. Never starts inside a number or right after "digit + separator", never ends before a
 * word character, `.digit` or `:digit` (decimals, IPs, times). Every quantifier is bounded.
 */
const CANDIDATE =
  /(?<![\w+.\-/@#$€£%])(?<!\d[ .-])(?:\+[1-9]\d{6,14}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,12}){0,6})(?![\w\-/@]|[.:]\d)/g;

/** The candidate text may hold a date or a second number: it is split at spaces next to `-`/`.`-joined tokens. */
export function detectPhones(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of collect(text, CANDIDATE, "phone")) out.push(...bestWindows(text.slice(m.start, m.end), m.start));
  return out;
}

function bestWindows(candidate: string, offset: number): PiiMatch[] {
  const tokens = candidate.split(" ");
  const starts: number[] = [];
  let at = 0;
  for (const token of tokens) {
    starts.push(at);
    at += token.length + 1;
  }
  // Only split where a neighbour is self-delimited ("2024-01-15 312-555-0175"); "0532 0130 00" stays one number.
  const canSplit = (k: number) => /[.-]/.test(tokens[k] ?? "") || /^[+(]|[.-]/.test(tokens[k + 1] ?? "");
  const isStart = (i: number) => i === 0 || canSplit(i - 1);
  const isEnd = (j: number) => j === tokens.length - 1 || canSplit(j);
  const found: PiiMatch[] = [];
  // Leftmost-longest windows of whole tokens; at most 7 tokens, so at most 28 checks.
  for (let i = 0; i < tokens.length; i++) {
    if (!isStart(i)) continue;
    for (let j = tokens.length - 1; j >= i; j--) {
      if (!isEnd(j)) continue;
      const start = starts[i] ?? 0;
      const end = (starts[j] ?? 0) + (tokens[j]?.length ?? 0);
      if (isPhoneNumber(candidate.slice(start, end))) {
        found.push({ kind: "phone", start: offset + start, end: offset + end });
        i = j;
        break;
      }
    }
  }
  return found;
}

/** Structural check of one candidate: international with `+`, NANP, or a national number with a trunk `0`. */
export function isPhoneNumber(s: string): boolean {
  const groups = s.replace("(0)", " ").match(/\d+/g) ?? [];
  const digits = groups.join("").length;
  if (s.startsWith("+")) return /^\+[1-9]/.test(s) && digits >= 8 && digits <= 15;
  if (groups.length < 2 || looksLikeDate(groups)) return false;
  // "00" is the international prefix in most of the world: "0049 30 901820".
  if (/^00[1-9]\d{0,2}$/.test(groups[0] ?? "")) return groups.every((g) => g.length >= 2) && digits - 2 >= 8 && digits - 2 <= 15;
  // Dotted quads of short groups are IPs or versions.
  if (/^[\d.]+$/.test(s) && groups.every((g) => g.length <= 3)) return false;
  const shape = groups.map((g) => g.length).join(",");
  if (shape === "3,3,4" || (shape === "1,3,3,4" && groups[0] === "1")) {
    const [area = "", exchange = ""] = groups.slice(-3);
    return /^[2-9]/.test(area) && /^[2-9]/.test(exchange);
  }
  const first = groups[0] ?? "";
  return (
    /^0[1-9]/.test(first) &&
    first.length <= 5 &&
    groups.length <= 5 &&
    groups.every((g) => g.length >= 2) &&
    digits >= 9 &&
    digits <= 12
  );
}

/** Three consecutive groups that read as d/m/y, m/d/y or y/m/d with a four-digit year. */
function looksLikeDate(groups: readonly string[]): boolean {
  const dm = (a: string, b: string) => a.length <= 2 && b.length <= 2 && Number(a) >= 1 && Number(b) >= 1 && (Number(a) <= 12 || Number(b) <= 12) && Number(a) <= 31 && Number(b) <= 31;
  const year = (y: string) => /^(?:19|20)\d\d$/.test(y);
  for (let i = 0; i + 2 < groups.length; i++) {
    const [a = "", b = "", c = ""] = groups.slice(i, i + 3);
    if ((year(c) && dm(a, b)) || (year(a) && dm(b, c))) return true;
  }
  return false;
}
