import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findPii, PII_KINDS, type PiiKind } from "../../plugins/pii-filter/index.ts";
import { createTextFilter } from "../../plugins/pii-filter/redact.ts";

interface Case {
  text: string;
  pii: { kind: PiiKind; match: string }[];
}

const cases = JSON.parse(readFileSync(new URL("./fixtures/pii-cases.json", import.meta.url), "utf8")) as Case[];

interface Score {
  tp: number;
  fp: number;
  fn: number;
}

/** Exact-span scoring: a detection counts only with the labelled kind and exactly the labelled text. */
function score(): { perKind: Map<PiiKind, Score>; misses: string[] } {
  const perKind = new Map<PiiKind, Score>(PII_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
  const misses: string[] = [];
  for (const { text, pii } of cases) {
    const expected = pii.map((e) => `${e.kind}\u0000${e.match}`);
    const actual = findPii(text).map((m) => `${m.kind}\u0000${text.slice(m.start, m.end)}`);
    for (const key of actual) {
      const kind = key.split("\u0000")[0] as PiiKind;
      const i = expected.indexOf(key);
      if (i >= 0) {
        expected.splice(i, 1);
        perKind.get(kind)!.tp++;
      } else {
        perKind.get(kind)!.fp++;
        misses.push(`FP ${key.replace("\u0000", ": ")}  in ${JSON.stringify(text.slice(0, 80))}`);
      }
    }
    for (const key of expected) {
      perKind.get(key.split("\u0000")[0] as PiiKind)!.fn++;
      misses.push(`FN ${key.replace("\u0000", ": ")}  in ${JSON.stringify(text.slice(0, 80))}`);
    }
  }
  return { perKind, misses };
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

describe("pii-filter detectors on the labelled fixture set", () => {
  it("has at least 200 cases: 100 with PII covering every kind, and 100 hard negatives", () => {
    const positives = cases.filter((c) => c.pii.length > 0);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(positives.length).toBeGreaterThanOrEqual(100);
    expect(cases.length - positives.length).toBeGreaterThanOrEqual(100);
    const kinds = new Set(positives.flatMap((c) => c.pii.map((e) => e.kind)));
    expect([...PII_KINDS].filter((k) => !kinds.has(k))).toEqual([]);
    for (const c of positives) for (const e of c.pii) expect(c.text).toContain(e.match);
  });

  it("reaches precision and recall of at least 0.95 overall (exact spans)", () => {
    const { perKind, misses } = score();
    const rows = [...perKind].map(([kind, s]) => ({
      kind,
      tp: s.tp,
      fp: s.fp,
      fn: s.fn,
      precision: ratio(s.tp, s.tp + s.fp).toFixed(3),
      recall: ratio(s.tp, s.tp + s.fn).toFixed(3),
    }));
    const total = [...perKind.values()].reduce((a, s) => ({ tp: a.tp + s.tp, fp: a.fp + s.fp, fn: a.fn + s.fn }), { tp: 0, fp: 0, fn: 0 });
    const precision = ratio(total.tp, total.tp + total.fp);
    const recall = ratio(total.tp, total.tp + total.fn);
    rows.push({ kind: "overall" as PiiKind, ...total, precision: precision.toFixed(3), recall: recall.toFixed(3) });
    console.log(`pii-filter detectors on ${cases.length} cases`);
    console.table(rows);
    if (misses.length > 0) console.log(misses.join("\n"));
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});

describe("pii-filter detectors on adversarial input", () => {
  const KB100 = 100_000;
  const adversarial: Record<string, string> = {
    "a@ repeated": "a@".repeat(KB100 / 2),
    "a run then @": `${"a".repeat(KB100)}@`,
    "@ then a domain that never ends": `x@${"a.".repeat(KB100 / 2)}`,
    "dotted local parts": `${"a.".repeat(KB100 / 2)}@`,
    "digit run": "1".repeat(KB100),
    "digits and dashes": "1-".repeat(KB100 / 2),
    "digits and spaces": "1 ".repeat(KB100 / 2),
    "digit groups and spaces": "1234 ".repeat(KB100 / 5),
    "digits and dots": "1.".repeat(KB100 / 2),
    "plus signs and digits": "+1".repeat(KB100 / 2),
    "parenthesised digits": "(1) ".repeat(KB100 / 4),
    colons: ":".repeat(KB100),
    "hex and colons": "a:".repeat(KB100 / 2),
    "IBAN-like prefixes": "DE89 ".repeat(KB100 / 5),
    "AWS-like prefixes": "AKIA".repeat(KB100 / 4),
    "base64 run after eyJ": `eyJ${"a".repeat(KB100)}`,
    "JWT-like segments": "eyJa.".repeat(KB100 / 5),
    "PEM headers without END": "-----BEGIN PRIVATE KEY-----\n".repeat(KB100 / 28),
    "bearer keywords": "Bearer ".repeat(KB100 / 7),
    "bearer with a huge token": `Bearer ${"a1".repeat(KB100 / 2)}`,
    "sk- dashes": `sk-${"a-".repeat(KB100 / 2)}`,
    "slack-like dashes": `xoxb-${"1-".repeat(KB100 / 2)}`,
  };
  const filter = createTextFilter({ kinds: PII_KINDS, action: "mask", allow: new Set(), maskChar: "*" }, new Set());
  findPii("warm up jane@example.com 4242 4242 4242 4242 +1 415-555-2671");

  for (const [name, text] of Object.entries(adversarial)) {
    it(`scans 100 KB of ${name} in under 200 ms`, () => {
      const started = performance.now();
      filter(text);
      expect(performance.now() - started).toBeLessThan(200);
    });
  }
});
