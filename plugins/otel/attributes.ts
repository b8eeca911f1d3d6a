import type { Attributes } from "@opentelemetry/api";
import type { HookContext } from "../../src/index.ts";

type Json = Record<string, unknown>;

/**
 * Attribute names. The first group comes from the OpenTelemetry semantic conventions for MCP
 * (open-telemetry/semantic-conventions-genai, docs/gen-ai/mcp.md, status Development); the `mcp.gateway.*`
 * group is this gateway's own.
 */
export const ATTR = {
  methodName: "mcp.method.name",
  sessionId: "mcp.session.id",
  protocolVersion: "mcp.protocol.version",
  resourceUri: "mcp.resource.uri",
  toolName: "gen_ai.tool.name",
  promptName: "gen_ai.prompt.name",
  operationName: "gen_ai.operation.name",
  toolArguments: "gen_ai.tool.call.arguments",
  errorType: "error.type",
  rpcStatusCode: "rpc.response.status_code",
  networkTransport: "network.transport",
  networkProtocol: "network.protocol.name",
  upstream: "mcp.gateway.upstream",
  server: "mcp.gateway.server",
  outcome: "mcp.gateway.outcome",
  retry: "mcp.gateway.retry",
} as const;

/** The `_meta` key a 2026-07-28 request carries its protocol version in (SDK `PROTOCOL_VERSION_META_KEY`). */
const PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion";
/** First protocol version without sessions (versions are dates, so they compare as strings). */
const STATELESS_SINCE = "2026-07-28";

export interface CallDescription {
  /** `{mcp.method.name} {target}`; the target is a tool or prompt name, never a resource URI (unbounded). */
  spanName: string;
  /** Low-cardinality attributes: on the span and on every metric. */
  common: Attributes;
  /** Attributes for the span only (per-session or per-resource values). */
  span: Attributes;
}

/** What one routed call is about, as OpenTelemetry attributes. `params` is unknown when the call failed before `mcp:before`. */
export function describeCall(ctx: HookContext, params: Json | undefined, recordArguments: boolean): CallDescription {
  const meta = metaOf(params);
  const common: Attributes = { [ATTR.methodName]: ctx.method };
  const span: Attributes = {};
  let target: string | undefined;

  switch (ctx.method) {
    case "tools/call":
      target = ctx.name;
      common[ATTR.operationName] = "execute_tool";
      if (recordArguments && params) span[ATTR.toolArguments] = JSON.stringify(params.arguments ?? {});
      break;
    case "prompts/get":
      target = ctx.name;
      break;
    case "resources/read":
    case "resources/subscribe":
    case "resources/unsubscribe":
      if (ctx.name) span[ATTR.resourceUri] = ctx.name;
      break;
    case "completion/complete": {
      const ref = isRecord(params?.ref) ? params.ref : undefined;
      if (ref?.type === "ref/prompt") target = ctx.name;
      else if (ref?.type === "ref/resource" && ctx.name) span[ATTR.resourceUri] = ctx.name;
      break;
    }
  }
  if (target) common[ctx.method === "tools/call" ? ATTR.toolName : ATTR.promptName] = target;

  const version = ctx.headers?.get("mcp-protocol-version") ?? stringOr(meta?.[PROTOCOL_VERSION_META_KEY]) ?? undefined;
  if (version) common[ATTR.protocolVersion] = version;
  if (ctx.headers) {
    common[ATTR.networkTransport] = "tcp";
    common[ATTR.networkProtocol] = "http";
  }
  if (ctx.upstream) common[ATTR.upstream] = ctx.upstream;
  if (ctx.server) common[ATTR.server] = ctx.server;
  // From 2026-07-28 on, MCP is stateless: `sessionId` is then a per-request id, not an MCP session.
  if (version === undefined || version < STATELESS_SINCE) span[ATTR.sessionId] = ctx.sessionId;
  if (ctx.retry) span[ATTR.retry] = true;

  return { spanName: target ? `${ctx.method} ${target}` : ctx.method, common, span };
}

export function metaOf(params: Json | undefined): Json | undefined {
  return isRecord(params?._meta) ? params._meta : undefined;
}

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
