import { ProtocolError, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import { FastResponse } from "srvx";
import type { Identity } from "../auth/types.ts";
import { JsonRpcCode } from "../errors.ts";
import type { RoutedMethod } from "../runtime/router.ts";
import type { SessionInfo } from "../runtime/session-server.ts";

/**
 * The hot path of a live 2025-era session: `tools/call` and the lists, answered with one `application/json` body
 * straight from `Router.dispatch` (plugin hooks included) instead of through the SDK's transport and `Server`
 * (zod parses of every message, an SSE stream through web streams). Anything the SDK must see takes the SDK's path:
 * a progress token, tasks, protocol-envelope `_meta`, unknown params, a header the SDK would refuse. A result only
 * the SDK can deliver (an `input_required` for its legacy input shim, a contentless tool result it normalises, a
 * tools/list it re-encodes) is handed to it as the first round's result, so nothing runs twice.
 */

type Params = Record<string, unknown>;
type RpcId = string | number;

/** A request the fast path may answer. */
export interface FastRequest {
  id: RpcId;
  method: RoutedMethod;
  params: Params;
}

const PARAM_KEYS: Partial<Record<RoutedMethod, ReadonlySet<string>>> = {
  "tools/call": new Set(["name", "arguments", "_meta"]),
  "tools/list": new Set(["cursor", "_meta"]),
  "prompts/list": new Set(["cursor", "_meta"]),
  "resources/list": new Set(["cursor", "_meta"]),
  "resources/templates/list": new Set(["cursor", "_meta"]),
};
const LEGACY_VERSIONS: ReadonlySet<string> = new Set(SUPPORTED_PROTOCOL_VERSIONS.filter((version) => version < "2026"));

export const isPlainObject = (value: unknown): value is Params => typeof value === "object" && value !== null && !Array.isArray(value);

/** The request, when a POST to a live 2025-era session can be answered without the SDK; `undefined` otherwise. */
export function fastRequestOf(request: Request, body: unknown): FastRequest | undefined {
  const call = fastCallOf(body);
  if (!call) return undefined;
  // The SDK answers 406 without both media types, and 400 for a protocol version it does not serve here.
  const accept = request.headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  const version = request.headers.get("mcp-protocol-version");
  if (version !== null && !LEGACY_VERSIONS.has(version)) return undefined;
  return call;
}

/** The request, when a JSON-RPC message (whatever carried it) can be answered without the SDK; `undefined` otherwise. */
export function fastCallOf(body: unknown): FastRequest | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== "2.0" || typeof body.method !== "string") return undefined;
  const allowed = PARAM_KEYS[body.method as RoutedMethod];
  const { id } = body;
  if (!allowed || (typeof id !== "string" && !Number.isSafeInteger(id))) return undefined;
  const params = body.params ?? {};
  if (!isPlainObject(params) || Object.keys(params).some((key) => !allowed.has(key))) return undefined;
  const meta = params._meta;
  if (meta !== undefined && (!isPlainObject(meta) || Object.keys(meta).some((key) => key === "progressToken" || key.startsWith("io.modelcontextprotocol/")))) {
    return undefined;
  }
  if (body.method === "tools/call") {
    if (typeof params.name !== "string" || (params.arguments !== undefined && !isPlainObject(params.arguments))) return undefined;
  } else if (params.cursor !== undefined && typeof params.cursor !== "string") {
    return undefined;
  }
  return { id: id as RpcId, method: body.method as RoutedMethod, params };
}

/**
 * Answer `call` for the session `info` through its router entry. `viaSdk` serves the same request on the SDK's path;
 * it is used only with a first-round result handed over (see `FastCalls` in session-server.ts).
 */
export async function answerFast(
  info: SessionInfo,
  call: FastRequest,
  request: Request,
  identity: Identity | undefined,
  viaSdk: () => Promise<Response>,
): Promise<Response> {
  const message = await dispatchFast(info, call, request.headers, identity);
  return message ? jsonResponse(message, info.id) : viaSdk();
}

/**
 * Run `call` through the session's router entry: the JSON-RPC response message, in the SDK's key order (so the bytes
 * match what it sends), or `undefined` when the result was handed over for the SDK to deliver (see `needsSdk`); the
 * caller then gives the SDK the same request.
 */
export async function dispatchFast(info: SessionInfo, call: FastRequest, headers: Headers, identity: Identity | undefined): Promise<Params | undefined> {
  const fast = (info.fast ??= { inflight: new Map(), handoff: new Map() });
  const controller = new AbortController();
  fast.inflight.set(call.id, controller);
  let result: Params;
  try {
    result = await info.direct!(call.method, call.params, { signal: controller.signal, headers, identity });
  } catch (error) {
    return { jsonrpc: "2.0", id: call.id, error: errorBody(error) };
  } finally {
    if (fast.inflight.get(call.id) === controller) fast.inflight.delete(call.id);
  }
  if (needsSdk(call.method, result)) {
    fast.handoff.set(call.id, { result, controller });
    return undefined;
  }
  return { result, jsonrpc: "2.0", id: call.id };
}

/** A `notifications/cancelled` for a request the fast path is serving aborts it (the SDK never saw that request). */
export function cancelFastCall(info: SessionInfo, body: unknown): void {
  if (!info.fast || !isPlainObject(body) || body.method !== "notifications/cancelled" || !isPlainObject(body.params)) return;
  const id = body.params.requestId;
  if (typeof id === "string" || typeof id === "number") info.fast.inflight.get(id)?.abort(body.params.reason);
}

/** The session ended: its fast-path requests stop like the SDK's own (their upstream calls are cancelled). */
export function abortFastCalls(info: SessionInfo): void {
  if (!info.fast) return;
  for (const controller of info.fast.inflight.values()) controller.abort(new Error("session closed"));
  for (const { controller } of info.fast.handoff.values()) controller.abort(new Error("session closed"));
  info.fast.inflight.clear();
  info.fast.handoff.clear();
}

function needsSdk(method: RoutedMethod, result: Params): boolean {
  if (result.resultType === "input_required") return true;
  if (method === "tools/call") return !Array.isArray(result.content);
  if (method === "tools/list") return Array.isArray(result.tools) && result.tools.some(needsLegacyOutputSchema);
  return false;
}

/** The 2025-era codec wraps a tool's non-object `outputSchema` (SEP-2106); that encoding stays the SDK's. */
function needsLegacyOutputSchema(tool: unknown): boolean {
  return isPlainObject(tool) && isPlainObject(tool.outputSchema) && tool.outputSchema.type !== "object";
}

/** The JSON-RPC error the SDK would send for `error` (the 2025-era codec maps -32002 to -32602). */
function errorBody(error: unknown): { code: number; message: string; data?: unknown } {
  const { code, message, data } = error instanceof ProtocolError ? error : new ProtocolError(JsonRpcCode.InternalError, "Internal error");
  const wire = Number.isSafeInteger(code) ? (code === -32002 ? -32602 : code) : JsonRpcCode.InternalError;
  return { code: wire, message, ...(data !== undefined ? { data } : {}) };
}

/** One string body with a Content-Length: srvx writes it to the socket without a web stream. */
export function jsonResponse(message: Record<string, unknown>, sessionId?: string): Response {
  const headers: Record<string, string> = sessionId === undefined ? { "content-type": "application/json" } : { "content-type": "application/json", "mcp-session-id": sessionId };
  return new FastResponse(JSON.stringify(message), { status: 200, headers });
}
