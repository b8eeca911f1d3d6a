/** Every kind of personal data or secret the filter detects, in overlap priority order (first wins). */
export const PII_KINDS = [
  "private-key",
  "jwt",
  "github-token",
  "slack-token",
  "stripe-key",
  "openai-key",
  "aws-access-key",
  "google-api-key",
  "bearer-token",
  "iban",
  "card",
  "ssn",
  "email",
  "ipv6",
  "ipv4",
  "phone",
] as const;

export type PiiKind = (typeof PII_KINDS)[number];

/** One detected value: `text.slice(start, end)`. */
export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

/** A detector finds non-overlapping matches of one kind. Pure; linear in `text`. */
export type Detector = (text: string) => PiiMatch[];

/**
 * Run `re` (global, bounded quantifiers only) over `text` and keep the candidates `accept` confirms.
 * `accept` may return a narrower `[start, end]` span. `matchAll` copies the regex, so shared constants stay stateless.
 */
export function collect(
  text: string,
  re: RegExp,
  kind: PiiKind,
  accept: (m: RegExpMatchArray, start: number) => boolean | readonly [number, number] = () => true,
): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(re)) {
    const start = m.index ?? 0;
    const verdict = accept(m, start);
    if (verdict === true) out.push({ kind, start, end: start + m[0].length });
    else if (verdict) out.push({ kind, start: verdict[0], end: verdict[1] });
  }
  return out;
}
