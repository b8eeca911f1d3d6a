import { errors } from "jose";
import type { AuthResult } from "./types.ts";

type AuthFailure = Extract<AuthResult, { ok: false }>;

/** The remote key set could not be fetched or parsed; kept apart from "unknown kid". */
export class KeySetUnavailableError extends Error {
  override readonly name = "KeySetUnavailableError";
  readonly timedOut: boolean;

  constructor(timedOut: boolean, cause: unknown) {
    super(timedOut ? "JWKS fetch timed out" : "JWKS fetch failed", { cause });
    this.timedOut = timedOut;
  }
}

const CLAIM_MESSAGES: Record<string, string> = {
  nbf: "token is not yet valid",
  iss: "token issuer is not accepted",
  aud: "token audience is not accepted",
  exp: "token has no valid expiry (exp)",
  sub: "token has no subject (sub)",
};

/**
 * Maps a verification error to a client-safe failure. Messages are fixed strings:
 * jose errors carry the decoded payload, so their text and fields never pass through.
 */
export function toAuthFailure(error: unknown): AuthFailure {
  const invalid = (message: string): AuthFailure => ({ ok: false, reason: "invalid", message });

  if (error instanceof errors.JWTExpired) return { ok: false, reason: "expired", message: "token has expired" };
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(CLAIM_MESSAGES[error.claim] ?? "token claims are invalid");
  }
  if (error instanceof KeySetUnavailableError) {
    return invalid(
      error.timedOut
        ? "signing keys are unavailable (key set fetch timed out)"
        : "signing keys are unavailable (key set fetch failed)",
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("token signature is invalid");
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("token algorithm is not allowed");
  if (error instanceof errors.JWKSNoMatchingKey) return invalid("no signing key matches the token");
  if (error instanceof errors.JWKSMultipleMatchingKeys) return invalid("token key id is ambiguous");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return invalid("token is malformed");
  return invalid("token could not be verified");
}
