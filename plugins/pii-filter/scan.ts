import { detectCards, detectEmails, detectIbans, detectIpv4, detectIpv6, detectSsns } from "./detectors.ts";
import { PII_KINDS, type Detector, type PiiKind, type PiiMatch } from "./kinds.ts";
import { detectPhones } from "./phone.ts";
import {
  detectAwsKeys,
  detectBearerTokens,
  detectGithubTokens,
  detectGoogleApiKeys,
  detectJwts,
  detectOpenAiKeys,
  detectPrivateKeys,
  detectSlackTokens,
  detectStripeKeys,
} from "./secrets.ts";

/** One detector per kind, each with a cheap substring test that skips texts it cannot match. */
const DETECTORS: Readonly<Record<PiiKind, { detect: Detector; maybe?: (text: string) => boolean }>> = {
  "private-key": { detect: detectPrivateKeys, maybe: (t) => t.includes("PRIVATE KEY") },
  jwt: { detect: detectJwts, maybe: (t) => t.includes("ey") || t.includes("ew") },
  "github-token": { detect: detectGithubTokens, maybe: (t) => t.includes("gh") || t.includes("github_pat_") },
  "slack-token": { detect: detectSlackTokens, maybe: (t) => t.includes("xox") },
  "stripe-key": { detect: detectStripeKeys, maybe: (t) => t.includes("k_live_") || t.includes("k_test_") },
  "openai-key": { detect: detectOpenAiKeys, maybe: (t) => t.includes("sk-") },
  "aws-access-key": { detect: detectAwsKeys },
  "google-api-key": { detect: detectGoogleApiKeys, maybe: (t) => t.includes("AIza") },
  "bearer-token": { detect: detectBearerTokens },
  iban: { detect: detectIbans },
  card: { detect: detectCards },
  ssn: { detect: detectSsns },
  email: { detect: detectEmails, maybe: (t) => t.includes("@") },
  ipv6: { detect: detectIpv6, maybe: (t) => t.includes(":") },
  ipv4: { detect: detectIpv4, maybe: (t) => t.includes(".") },
  phone: { detect: detectPhones },
};

const RANK = new Map<PiiKind, number>(PII_KINDS.map((kind, i) => [kind, i]));

/**
 * Every match of the given kinds in `text`, sorted by position and non-overlapping.
 * Where two overlap the more specific kind wins (a JWT inside `Bearer …` is a `jwt`; an IBAN's digits are not a phone).
 */
export function findPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiMatch[] {
  const all: PiiMatch[] = [];
  for (const kind of kinds) {
    const { detect, maybe } = DETECTORS[kind];
    if (maybe && !maybe(text)) continue;
    for (const match of detect(text)) all.push(match);
  }
  return all.length < 2 ? all : resolveOverlaps(all);
}

function resolveOverlaps(matches: PiiMatch[]): PiiMatch[] {
  const rank = (m: PiiMatch) => RANK.get(m.kind) ?? 0;
  matches.sort((a, b) => a.start - b.start || rank(a) - rank(b) || b.end - a.end);
  const kept: PiiMatch[] = [];
  for (const m of matches) {
    const last = kept.at(-1);
    if (!last || m.start >= last.end) kept.push(m);
    else if (rank(m) < rank(last)) kept[kept.length - 1] = m;
  }
  return kept;
}
