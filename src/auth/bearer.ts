/**
 * Reads the credential of an `Authorization: Bearer <token>` header.
 * Only the header is accepted: tokens in query strings end up in access logs.
 * Returns `undefined` when the header is absent or uses another scheme.
 */
export function readBearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}
