import { GatewayError, JsonRpcCode } from "../../errors.ts";
import { describeError } from "../../_utils/errors.ts";
import type { SafeFetch } from "../../net/safe-fetch.ts";
import type { RestAuthenticator } from "./auth.ts";
import type { CircuitBreaker } from "./circuit-breaker.ts";
import { abortableDelay } from "./limits.ts";
import { buildRequest, type MappedRequest } from "./mapping.ts";
import { errorResult, invalidArgumentsResult, readBody, redact, successResult, type ToolResult } from "./response.ts";
import { isIdempotent, retryDelay, type AttemptOutcome } from "./retry.ts";
import type { RestTool } from "./tools.ts";

/** Counters an API keeps about its calls (shown in `/health`). */
export interface RestCallStats {
  calls: number;
  failures: number;
  retries: number;
  /** Calls refused at once because the circuit was open. */
  shortCircuited: number;
  inFlight: number;
}

/** What one call needs from its API. */
export interface RestCallContext {
  api: string;
  baseUrl: string;
  headers: Readonly<Record<string, string>>;
  auth: RestAuthenticator;
  fetch: SafeFetch;
  breaker?: CircuitBreaker;
  stats: RestCallStats;
}

type Attempt = { response: Response; body: Uint8Array } | { error: GatewayError };

/**
 * Run one tool call: validate the arguments (no request on failure), pass the circuit breaker, then attempt the
 * request under the rate limits, concurrency limits and per-attempt timeout, retrying transient failures of
 * idempotent calls. HTTP errors become `isError` results; network errors and timeouts throw a GatewayError.
 * No message carries a credential: every text from outside is masked with the API's secrets.
 */
export async function callRestTool(tool: RestTool, rawArgs: unknown, ctx: RestCallContext, signal: AbortSignal): Promise<ToolResult> {
  const checked = tool.validate(rawArgs);
  if (!checked.ok) return invalidArgumentsResult(tool.name, checked.message);
  let request: MappedRequest;
  try {
    request = buildRequest(ctx.baseUrl, tool.mapping, checked.value);
  } catch (error) {
    return invalidArgumentsResult(tool.name, describeError(error));
  }
  if (ctx.breaker && !ctx.breaker.tryAcquire()) {
    ctx.stats.shortCircuited++;
    const retryAt = ctx.breaker.snapshot().retryAt;
    const wait = retryAt ? `; next trial in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s` : "";
    throw new GatewayError("UPSTREAM_UNAVAILABLE", `REST API "${ctx.api}" circuit is open after repeated failures${wait}`, {
      status: 503,
      rpcCode: JsonRpcCode.UpstreamError,
    });
  }
  ctx.stats.calls++;
  const idempotent = isIdempotent(tool.mapping.method, tool.idempotent);
  let refreshedAuth = false;
  try {
    for (let attempt = 0; ; attempt++) {
      const result = await attemptOnce(tool, request, ctx, signal);
      if ("response" in result && result.response.status === 401 && ctx.auth.refreshable && !refreshedAuth) {
        refreshedAuth = true;
        ctx.auth.invalidate();
        attempt--;
        continue;
      }
      const outcome: AttemptOutcome =
        "error" in result ? { kind: "network" } : { kind: "status", status: result.response.status, retryAfter: result.response.headers.get("retry-after") };
      if ("response" in result && result.response.ok) {
        ctx.breaker?.success();
        return successResult(result.response, result.body, request.url.origin + request.url.pathname);
      }
      const delay = retryDelay(tool.limits.retry, attempt, outcome, idempotent);
      if (delay !== undefined) {
        ctx.stats.retries++;
        await abortableDelay(delay, signal);
        continue;
      }
      const failed = outcome.kind === "network" || outcome.status >= 500 || outcome.status === 429;
      if (failed) {
        ctx.stats.failures++;
        ctx.breaker?.failure();
      } else ctx.breaker?.success();
      if ("error" in result) throw result.error;
      return errorResult(result.response, result.body, ctx.auth.secrets());
    }
  } catch (error) {
    // Aborted by the caller, or failed before any verdict (e.g. no OAuth2 token): free a half-open trial slot.
    ctx.breaker?.release();
    throw error;
  }
}

/** One HTTP exchange under the tool's limits; the body is read inside the timeout and the concurrency slot. */
async function attemptOnce(tool: RestTool, request: MappedRequest, ctx: RestCallContext, signal: AbortSignal): Promise<Attempt> {
  for (const bucket of tool.limits.buckets) await bucket.take(signal);
  const releases: (() => void)[] = [];
  let counted = false;
  try {
    for (const limiter of tool.limits.limiters) releases.push(await limiter.acquire(signal));
    ctx.stats.inFlight++;
    counted = true;
    const url = new URL(request.url);
    const headers = new Headers(ctx.headers);
    request.headers.forEach((value, key) => headers.set(key, value));
    await ctx.auth.apply(url, headers, signal);
    const timeout = AbortSignal.timeout(tool.limits.timeout);
    try {
      const response = await ctx.fetch(url, { method: tool.mapping.method, headers, body: request.body, signal: AbortSignal.any([signal, timeout]) });
      return { response, body: await readBody(response) };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) {
        const message = `REST API "${ctx.api}" did not answer ${tool.mapping.method} ${tool.mapping.path} within ${tool.limits.timeout} ms`;
        return { error: new GatewayError("UPSTREAM_TIMEOUT", message, { status: 504, rpcCode: JsonRpcCode.UpstreamError }) };
      }
      if (error instanceof GatewayError && error.code === "FORBIDDEN") throw error;
      const message = `REST API "${ctx.api}" failed on ${tool.mapping.method} ${tool.mapping.path}: ${redact(describeError(error), ctx.auth.secrets())}`;
      return { error: new GatewayError("UPSTREAM_UNAVAILABLE", message, { status: 502, rpcCode: JsonRpcCode.UpstreamError }) };
    }
  } finally {
    if (counted) ctx.stats.inFlight--;
    for (const release of releases) release();
  }
}
