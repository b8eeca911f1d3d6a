import { base64url } from "jose";

/** Longest `kid` we will look up; anything longer cannot be a real key id. */
const MAX_KID_LENGTH = 256;

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Header fields needed before verification, read from untrusted input. */
export interface InspectedHeader {
  alg: string;
  kid?: string;
}

/**
 * Cheap structural checks on a compact JWT before any key lookup or crypto.
 * The size check runs first so oversized input is never decoded.
 * Failure messages are fixed strings: they never quote the token.
 */
export function inspectCompactJwt(
  token: string,
  maxTokenBytes: number,
): { ok: true; header: InspectedHeader } | { ok: false; message: string } {
  // A compact JWT is pure ASCII, so once the charset check passes length === byte length.
  if (token.length > maxTokenBytes) return { ok: false, message: "token is too large" };
  if (!COMPACT_JWS.test(token)) return { ok: false, message: "token is malformed" };

  const encodedHeader = token.slice(0, token.indexOf("."));
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(base64url.decode(encodedHeader)));
  } catch {
    return { ok: false, message: "token header is malformed" };
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return { ok: false, message: "token header is malformed" };
  }
  const { alg, kid } = header as Record<string, unknown>;
  if (typeof alg !== "string" || alg === "") return { ok: false, message: "token header is malformed" };
  if (kid !== undefined && (typeof kid !== "string" || kid.length > MAX_KID_LENGTH)) {
    return { ok: false, message: "no signing key matches the token" };
  }
  return { ok: true, header: kid === undefined ? { alg } : { alg, kid } };
}
