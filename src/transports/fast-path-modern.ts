import { randomUUID } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  type InboundClassificationOutcome,
} from "@modelcontextprotocol/server";
import type { Identity } from "../auth/types.ts";
import type { DirectDispatch, FastCalls, Handoff, SessionInfo } from "../runtime/session-server.ts";
import { isPlainObject, jsonResponse, type FastRequest } from "./fast-path.ts";

/**
 * The hot path of a 2026-07-28 request: a plain `tools/call` is answered with one `application/json` body straight
 * from `Router.dispatch` (plugin hooks included), without the per-request SDK `Server` and its transport, zod parses
 * and web streams. Only the happy path is taken here: anything the SDK must judge or encode (a header it would
 * refuse or must decode, progress, a log level, request state, input responses, an error, an `input_required` or a
 * contentless result) goes to the SDK's handler, with the outcome computed here handed over so nothing runs twice.
 */

const REVISION = "2026-07-28";
const PARAM_KEYS: ReadonlySet<string> = new Set(["name", "arguments", "_meta"]);
/** Envelope keys the SDK lifts out of `_meta` before a handler sees the request (the log level stays with the SDK). */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set([PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY]);

/** Outcomes computed by the fast path for requests it handed to the SDK, read by the endpoint's server factory. */
export type ModernHandoffs = WeakMap<Request, FastCalls>;

/** The `tools/call` of a 2026-07-28 request the fast path may answer (params as a handler would see them), or `undefined`. */
export function modernFastRequestOf(request: Request, route: InboundClassificationOutcome): FastRequest | undefined {
  if (route.kind !== "modern" || route.messageKind !== "request" || route.classification.revision !== REVISION) return undefined;
  return fastCallOf(request, route.message as Record<string, unknown>);
}

/**
 * Envelopes (`clientInfo` + `clientCapabilities`) the SDK's classifier has accepted on this endpoint: a request whose
 * envelope is one of them, and whose shape and headers leave the classifier nothing else to judge, needs no second
 * look (the classifier's zod checks are a noticeable share of a call). Only ever filled from accepted requests.
 */
export class KnownEnvelopes {
  readonly #known = new Set<string>();
  readonly #max: number;

  constructor(max = 256) {
    this.#max = max;
  }

  /** The fast-path call in `body` if its envelope is known; `undefined` sends it through the classifier. */
  lookup(request: Request, body: unknown): FastRequest | undefined {
    const key = envelopeKey(body);
    if (key === undefined || !this.#known.has(key)) return undefined;
    return fastCallOf(request, body as Record<string, unknown>);
  }

  /** Remember the envelope of `body`, which the classifier accepted as a fast-path call. */
  accept(body: unknown): void {
    const key = envelopeKey(body);
    if (key === undefined) return;
    if (this.#known.size >= this.#max) this.#known.clear();
    this.#known.add(key);
  }
}

const MESSAGE_KEYS: ReadonlySet<string> = new Set(["jsonrpc", "id", "method", "params"]);

/** The memo key of a request whose `_meta` is exactly a 2026-07-28 envelope (nothing else for a schema to judge), else `undefined`. */
function envelopeKey(body: unknown): string | undefined {
  if (!isPlainObject(body) || body.jsonrpc !== "2.0" || Object.keys(body).some((key) => !MESSAGE_KEYS.has(key))) return undefined;
  const meta = isPlainObject(body.params) ? body.params._meta : undefined;
  if (!isPlainObject(meta) || meta[PROTOCOL_VERSION_META_KEY] !== REVISION) return undefined;
  const keys = Object.keys(meta);
  if (keys.length !== ENVELOPE_KEYS.size || keys.some((key) => !ENVELOPE_KEYS.has(key))) return undefined;
  return JSON.stringify([meta[CLIENT_INFO_META_KEY], meta[CLIENT_CAPABILITIES_META_KEY]]);
}

/** Shape and standard headers of a fast-path `tools/call`; `params` as a handler sees them (envelope lifted). */
function fastCallOf(request: Request, message: Record<string, unknown>): FastRequest | undefined {
  const { id, method, params } = message;
  if (method !== "tools/call" || (typeof id !== "string" && !Number.isSafeInteger(id))) return undefined;
  if (!isPlainObject(params) || Object.keys(params).some((key) => !PARAM_KEYS.has(key))) return undefined;
  const { name, arguments: args, _meta: meta } = params;
  if (typeof name !== "string" || (args !== undefined && !isPlainObject(args)) || !isPlainObject(meta)) return undefined;
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(meta)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    if (key === "progressToken" || key.startsWith("io.modelcontextprotocol/")) return undefined;
    rest[key] = meta[key];
  }
  // The SEP-2243 headers, exactly as the SDK wants them; any other spelling is the SDK's to accept or refuse.
  const { headers } = request;
  if (headers.get("mcp-protocol-version")?.trim() !== REVISION || headers.get("mcp-method")?.trim() !== method) return undefined;
  if (headers.get("mcp-name")?.trim() !== name || name !== name.trim() || !/^[\x20-\x7e]+$/.test(name)) return undefined;
  const { _meta: _, ...handlerParams } = params;
  return { id: id as string | number, method: "tools/call", params: Object.keys(rest).length > 0 ? { ...handlerParams, _meta: rest } : handlerParams };
}

export interface ModernFastOptions {
  dispatchFor: (info: SessionInfo) => DirectDispatch;
  serverInfo: { name: string; version: string };
  /** Serve the request on the SDK's path with `handoff` as its first round (see `takeHandoff` in session-server.ts). */
  viaSdk: (handoff: Handoff) => Promise<Response>;
}

/** Answer `call` (from {@link modernFastRequestOf}) for a stateless 2026-07-28 request on the endpoint of `server`. */
export async function answerModernFast(
  call: FastRequest,
  request: Request,
  identity: Identity | undefined,
  server: string | undefined,
  options: ModernFastOptions,
): Promise<Response> {
  const info: SessionInfo = { id: randomUUID(), subscriptions: new Set(), identity, server };
  // The router's signal follows the client only while the call runs, as on the SDK's path (`requestScope`).
  const controller = new AbortController();
  const signal = request.signal;
  const follow = () => controller.abort(signal.reason);
  signal.addEventListener("abort", follow, { once: true });
  let handoff: Handoff;
  try {
    const result = await options.dispatchFor(info)(call.method, call.params, { signal: controller.signal, headers: request.headers, identity });
    const encoded = encodeComplete(result, options.serverInfo);
    if (encoded) return jsonResponse({ result: encoded, jsonrpc: "2.0", id: call.id });
    handoff = { controller, result };
  } catch (error) {
    handoff = { controller, error };
  } finally {
    signal.removeEventListener("abort", follow);
  }
  return options.viaSdk(handoff);
}

/**
 * The SDK's 2026-07-28 encoding of a complete `tools/call` result (`resultType` stamped, the gateway's `serverInfo`
 * added to `_meta` unless present), or `undefined` when the SDK must look at the result itself.
 */
function encodeComplete(result: Record<string, unknown>, serverInfo: { name: string; version: string }): Record<string, unknown> | undefined {
  if ((result.resultType !== undefined && result.resultType !== "complete") || !Array.isArray(result.content)) return undefined;
  const meta = result._meta;
  if (meta !== undefined && !isPlainObject(meta)) return undefined;
  const stamped = result.resultType === undefined ? { ...result, resultType: "complete" } : result;
  if (meta === undefined) return { ...stamped, _meta: { [SERVER_INFO_META_KEY]: serverInfo } };
  return meta[SERVER_INFO_META_KEY] === undefined ? { ...stamped, _meta: { ...meta, [SERVER_INFO_META_KEY]: serverInfo } } : stamped;
}

/** Hand `handoff` for `request` (id `id`) to the SDK handler that `serve` reaches. */
export function handOver(handoffs: ModernHandoffs, request: Request, id: string | number, handoff: Handoff, serve: () => Promise<Response>): Promise<Response> {
  handoffs.set(request, { inflight: new Map(), handoff: new Map([[id, handoff]]) });
  return serve();
}
