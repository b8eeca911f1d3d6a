/** Who made a request, as established by an {@link AuthProvider}. */
export interface Identity {
  /** Stable subject identifier (JWT `sub`, API key id, user name). */
  subject: string;
  /** Granted scopes, already split into single values. */
  scopes: string[];
  /** Verified claims; read-only so plugins cannot rewrite who the caller is. */
  claims: Readonly<Record<string, unknown>>;
  /** `name` of the provider that authenticated the request. */
  provider: string;
}

/** Why authentication failed; maps to 401 (`missing`, `invalid`, `expired`) or 403 (`forbidden`). */
export type AuthFailureReason = "missing" | "invalid" | "expired" | "forbidden";

/** Outcome of {@link AuthProvider.authenticate}. A failure never throws. */
export type AuthResult =
  | { ok: true; identity: Identity }
  | {
      ok: false;
      reason: AuthFailureReason;
      /** Safe to send to clients: never echoes the credential. */
      message: string;
    };

/** Extension point: turns an incoming request into an {@link Identity} or a typed failure. */
export interface AuthProvider {
  name: string;
  authenticate(request: Request): Promise<AuthResult>;
  /** The `WWW-Authenticate` challenge a 401 offers for this provider. Default: `Bearer` (with the OAuth parameters). */
  challenge?: string;
}

/** Type helper for user-authored providers. */
export function defineAuthProvider<T extends AuthProvider>(provider: T): T {
  return provider;
}
