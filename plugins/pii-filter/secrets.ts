/**
 * Detectors for credentials: vendor tokens with a fixed prefix, generic bearer tokens, PEM private keys and JWTs.
 * Prefix patterns need a body with letters and digits so placeholders (`sk_live_xxxx`, `YOUR_TOKEN`) pass.
 */
import { decodeJsonSegment, hasLetterAndDigit } from "./checks.ts";
import { collect, type PiiMatch } from "./kinds.ts";

const AWS = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const GITHUB = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{40,244})(?![A-Za-z0-9_])/g;
const SLACK = /(?<![A-Za-z0-9-])xox[abpr]-(?:[0-9A-Za-z]{1,64}-){1,5}[0-9A-Za-z]{4,64}(?![A-Za-z0-9-])/g;
const STRIPE = /(?<![A-Za-z0-9_])[rs]k_(?:live|test)_[A-Za-z0-9]{10,247}(?![A-Za-z0-9_])/g;
const GOOGLE = /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g;
const OPENAI = /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|ant-api\d\d|ant-admin\d\d)-)?([A-Za-z0-9_-]{20,250})(?![A-Za-z0-9_-])/g;
const BEARER = /(?<![A-Za-z])bearer[ \t]{1,4}([A-Za-z0-9\-._~+/]{16,4096}={0,2})(?![A-Za-z0-9\-._~+/=])/gi;
const JWT = /(?<![A-Za-z0-9_.-])(e[wy][A-Za-z0-9_-]{8,2000})\.[A-Za-z0-9_-]{2,20000}\.[A-Za-z0-9_-]{0,4000}(?![A-Za-z0-9_-]|\.[A-Za-z0-9_-])/g;
const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]{1,16} ){0,2}PRIVATE KEY(?: BLOCK)?)-----/g;
// Body of a PEM cut off before its END line: base64 lines (real or JSON-escaped newlines) and PEM headers.
const PEM_TAIL = String.raw`(?:[A-Za-z0-9+/=:,-]{1,128}|\r?\n|\\n){0,2000}`;

export const detectAwsKeys = (text: string): PiiMatch[] => collect(text, AWS, "aws-access-key");

export const detectGithubTokens = (text: string): PiiMatch[] => collect(text, GITHUB, "github-token", (m) => hasLetterAndDigit(m[0].slice(4)));

export const detectSlackTokens = (text: string): PiiMatch[] => collect(text, SLACK, "slack-token", (m) => /\d/.test(m[0].slice(5)));

export const detectStripeKeys = (text: string): PiiMatch[] => collect(text, STRIPE, "stripe-key", (m) => hasLetterAndDigit(m[0].slice(8)));

export const detectGoogleApiKeys = (text: string): PiiMatch[] => collect(text, GOOGLE, "google-api-key");

/** `sk-…` keys (OpenAI, Anthropic style): the body needs a digit, a letter and one 16+ character alphanumeric run. */
export const detectOpenAiKeys = (text: string): PiiMatch[] =>
  collect(text, OPENAI, "openai-key", (m) => hasLetterAndDigit(m[1] ?? "") && /[A-Za-z0-9]{16}/.test(m[1] ?? ""));

/** The token after `Bearer` (the keyword itself stays readable). */
export function detectBearerTokens(text: string): PiiMatch[] {
  return collect(text, BEARER, "bearer-token", (m, start) => {
    const token = (m[1] ?? "").replace(/\.+$/, "");
    if (!hasLetterAndDigit(token) || token.length < 16) return false;
    const tokenStart = start + m[0].length - (m[1] ?? "").length;
    return [tokenStart, tokenStart + token.length];
  });
}

/** Three base64url segments whose first decodes to a JSON object with an `alg`. */
export const detectJwts = (text: string): PiiMatch[] =>
  collect(text, JWT, "jwt", (m) => typeof decodeJsonSegment(m[1] ?? "")?.["alg"] === "string");

/** PEM private keys from BEGIN to the matching END line; a key cut off before END is taken to the end of its body. */
export function detectPrivateKeys(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  const missingEnd = new Set<string>();
  const tail = new RegExp(PEM_TAIL, "y");
  let from = 0;
  for (const m of text.matchAll(PEM_BEGIN)) {
    const start = m.index ?? 0;
    const label = m[1] ?? "";
    if (start < from) continue;
    const bodyStart = start + m[0].length;
    const footer = `-----END ${label}-----`;
    // Remember labels without an END so repeated headers cannot make this quadratic.
    const endAt = missingEnd.has(label) ? -1 : text.indexOf(footer, bodyStart);
    if (endAt >= 0) {
      from = endAt + footer.length;
    } else {
      missingEnd.add(label);
      tail.lastIndex = bodyStart;
      from = bodyStart + (tail.exec(text)?.[0].length ?? 0);
    }
    out.push({ kind: "private-key", start, end: from });
  }
  return out;
}
