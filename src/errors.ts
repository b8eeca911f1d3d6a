/** JSON-RPC error codes the gateway emits. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Unknown or expired `Mcp-Session-Id` (same code the SDK transports use). */
  SessionNotFound: -32001,
  /** Upstream unavailable, timed out or failed (implementation-defined server error range). */
  UpstreamError: -32011,
  /** MCP: the requested resource does not exist. */
  ResourceNotFound: -32002,
  /** A server→client request could not be attributed to exactly one client session. */
  Unattributable: -32010,
  /** A plugin or policy blocked the request. */
  Blocked: -32012,
} as const;

export type GatewayErrorCode =
  | "CONFIG_INVALID"
  | "NAME_COLLISION"
  | "CONFLICT"
  | "NOT_FOUND"
  | "UPSTREAM_UNAVAILABLE"
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_ERROR"
  | "UNATTRIBUTABLE"
  | "BAD_REQUEST"
  | "FORBIDDEN"
  | "PAYLOAD_TOO_LARGE"
  | "INTERNAL";

export interface GatewayErrorOptions {
  status?: number;
  rpcCode?: number;
  data?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error family of the gateway: a stable `code`, an HTTP status and a JSON-RPC code.
 * `message` is always safe to show to a client; `cause` never leaves the process.
 */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly rpcCode: number;
  readonly data?: Record<string, unknown>;

  constructor(code: GatewayErrorCode, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? 500;
    this.rpcCode = opts.rpcCode ?? JsonRpcCode.InternalError;
    this.data = opts.data;
  }

  /** Safe serialisation: no stack, no cause. */
  toJSON(): { code: GatewayErrorCode; message: string; data?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) };
  }
}

export interface ConfigIssue {
  /** Dotted field path, e.g. `upstreams.search.url`. */
  path: string;
  message: string;
}

/** A config file failed to load or validate. The message lists every issue as `path: message`. */
export class GatewayConfigError extends GatewayError {
  readonly issues: ConfigIssue[];
  readonly file?: string;

  constructor(issues: ConfigIssue[], file?: string) {
    const where = file ? ` in ${file}` : "";
    const lines = issues.map((i) => `  ${i.path || "(root)"}: ${i.message}`).join("\n");
    super("CONFIG_INVALID", `Invalid gateway config${where}:\n${lines}`, { status: 500 });
    this.issues = issues;
    this.file = file;
  }
}

/** The error calls still in flight get when their upstream is closed (removed by a reload, or the gateway closing). */
export function upstreamClosed(upstream: string): GatewayError {
  return new GatewayError("UPSTREAM_UNAVAILABLE", `Upstream "${upstream}" closed`, { status: 503, rpcCode: JsonRpcCode.UpstreamError });
}

/** A method an upstream kind has no counterpart for (`what`: e.g. "an A2A agent"), as a JSON-RPC method-not-found. */
export function unsupportedMethod(upstream: string, method: string, what?: string): GatewayError {
  return new GatewayError("BAD_REQUEST", `Upstream "${upstream}" ${what ? `is ${what} and ` : ""}does not support ${method}`, {
    status: 400,
    rpcCode: JsonRpcCode.MethodNotFound,
  });
}
