import { isJsonContentType } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** A JSON-RPC error as an HTTP response (id null: the request could not be identified). */
export function rpcErrorResponse(status: number, code: number, message: string, headers?: HeadersInit): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: { code, message } }, { status, headers });
}

export interface OriginPolicy {
  /** Exact origins (`https://app.example.com`) or `*`. */
  allowedOrigins: readonly string[];
  /** Host the gateway is bound to; loopback binds also accept loopback origins and only loopback Host headers. */
  host: string;
}

/**
 * DNS-rebinding and cross-site protection: a browser `Origin` must be allowed, and a gateway bound to loopback
 * only answers requests addressed to a loopback host. Returns a 403 response, or undefined when the request may pass.
 */
export function checkOrigin(request: Request, policy: OriginPolicy): Response | undefined {
  const loopbackBind = LOOPBACK.has(policy.host);
  if (loopbackBind) {
    // In-process Requests carry no Host header; the URL host is what the client addressed.
    const host = request.headers.get("host") ?? new URL(request.url).host;
    if (!LOOPBACK.has(hostnameOf(host).toLowerCase())) return rpcErrorResponse(403, JsonRpcCode.InvalidRequest, "Forbidden: Host not allowed");
  }
  const origin = request.headers.get("origin");
  if (!origin) return undefined;
  if (policy.allowedOrigins.includes("*") || policy.allowedOrigins.includes(origin)) return undefined;
  if (loopbackBind) {
    try {
      if (LOOPBACK.has(new URL(origin).hostname)) return undefined;
    } catch {
      // fall through: an unparsable Origin is foreign
    }
  }
  return rpcErrorResponse(403, JsonRpcCode.InvalidRequest, "Forbidden: Origin not allowed");
}

function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  return host.split(":")[0] ?? host;
}

/**
 * Read and parse a JSON body once, bounded by `limit` bytes: 415 for a non-JSON content type,
 * 413 when too large, JSON-RPC -32700 for malformed JSON.
 */
export async function readJsonBody(request: Request, limit: number): Promise<{ value: unknown } | { response: Response }> {
  if (!isJsonContentType(request.headers.get("content-type"))) {
    return { response: rpcErrorResponse(415, JsonRpcCode.InvalidRequest, "Unsupported Media Type: Content-Type must be application/json") };
  }
  const tooLarge = () => ({ response: rpcErrorResponse(413, JsonRpcCode.InvalidRequest, `Payload Too Large: limit is ${limit} bytes`) });
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > limit) return tooLarge();
  if (declared >= 0) {
    // Bounded by Content-Length (the HTTP layer enforces it): read buffered, skipping the web-stream machinery.
    const text = await request.text();
    if (Buffer.byteLength(text) > limit) return tooLarge();
    return parseJson(text);
  }
  if (!request.body) return { response: rpcErrorResponse(400, JsonRpcCode.ParseError, "Parse error: empty body") };
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge();
    }
    chunks.push(value);
  }
  return parseJson(Buffer.concat(chunks).toString("utf8"));
}

function parseJson(text: string): { value: unknown } | { response: Response } {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { response: rpcErrorResponse(400, JsonRpcCode.ParseError, "Parse error: body is not valid JSON") };
  }
}
