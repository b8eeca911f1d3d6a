/** Schemes a WebSocket URL may be written with: `ws(s):`, or `http(s):` for the same host (the handshake is HTTP). */
export const WS_URL_SCHEMES: readonly string[] = ["ws:", "wss:", "http:", "https:"];

/** `http(s)://…` as `ws(s)://…`; any other URL unchanged. */
export function toWsUrl(url: string): string {
  return url.replace(/^http(s?):/i, "ws$1:");
}

/** `ws(s)://…` as `http(s)://…`: what the SSRF guard, which knows HTTP only, checks for a WebSocket URL. */
export function toHttpUrl(url: string): string {
  return url.replace(/^ws(s?):/i, "http$1:");
}
