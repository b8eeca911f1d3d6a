/**
 * `otel`: OpenTelemetry for every routed MCP request, following the MCP semantic conventions: one SERVER span,
 * W3C trace context continued from the client and handed on to the upstream in `params._meta`, and
 * call/error/duration metrics. Uses only `@opentelemetry/api`; the application registers the SDK.
 */
import {
  SpanKind,
  SpanStatusCode,
  createNoopMeter,
  metrics,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Span,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { definePlugin, type CallError, type GatewayPlugin, type HookContext } from "../../src/index.ts";
import { ATTR, describeCall, metaOf } from "./attributes.ts";
import { extractParent, injectInto } from "./propagation.ts";

export { ATTR } from "./attributes.ts";

type Json = Record<string, unknown>;

export interface OtelOptions extends Pick<GatewayPlugin, "priority" | "when"> {
  /** Instrumentation scope of the tracer (default `"mcp-gateway"`). */
  tracerName?: string;
  /** Record tool arguments as `gen_ai.tool.call.arguments` (default `false`: arguments often carry secrets). */
  recordArguments?: boolean;
  /** Extra span attributes per call, e.g. a tenant. Spans only: metric attributes stay low-cardinality. */
  attributes?: (ctx: HookContext) => Record<string, string>;
}

/** How a call ended. */
type Outcome = { kind: "ok" | "tool_error" | "input_required" } | { kind: "error"; error: CallError };

interface CallState {
  span?: Span;
  start: number;
  attributes: Attributes;
  done: boolean;
}

interface Instruments {
  calls: Counter;
  errors: Counter;
  duration: Histogram;
}

const SCOPE = "mcp-gateway";
const STATE_KEY = "otel";
/** Bucket boundaries the MCP semantic conventions ask for on `mcp.server.operation.duration`. */
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/**
 * Build the `otel` plugin. Register an SDK (tracer and/or meter provider, W3C propagator) before calling it: with
 * neither provider registered it returns a plugin without hooks, which costs nothing per call.
 */
export function otel(options: OtelOptions = {}): GatewayPlugin {
  const tracer = activeTracer(options.tracerName ?? SCOPE);
  const instruments = activeInstruments();
  if (!tracer && !instruments) return definePlugin({ name: "otel" });
  const recordArguments = options.recordArguments ?? false;

  const begin = (ctx: HookContext, params: Json | undefined): { call: CallState; forward?: Json } => {
    const described = describeCall(ctx, params, recordArguments);
    const call: CallState = { start: performance.now(), attributes: described.common, done: false };
    let forward: Json | undefined;
    if (tracer) {
      const meta = metaOf(params);
      const { parent, links } = extractParent(meta, ctx.headers);
      const attributes = { ...described.common, ...described.span, ...userAttributes(options, ctx) };
      call.span = tracer.startSpan(described.spanName, { kind: SpanKind.SERVER, attributes, links }, parent);
      // Lists are answered from the catalog; everything else reaches an upstream.
      if (params && !ctx.method.endsWith("/list")) forward = injectInto(params, trace.setSpan(parent, call.span));
    }
    ctx.state.set(STATE_KEY, call);
    return { call, forward };
  };

  const finish = (ctx: HookContext, outcome: Outcome): void => {
    // No state: the call failed before this plugin's `mcp:before` ran (a plugin with a lower priority blocked it).
    const call = (ctx.state.get(STATE_KEY) as CallState | undefined) ?? begin(ctx, undefined).call;
    if (call.done) return;
    call.done = true;
    const attributes: Attributes = { ...call.attributes };
    if (outcome.kind === "error") {
      attributes[ATTR.errorType] = String(outcome.error.code);
      attributes[ATTR.rpcStatusCode] = String(outcome.error.code);
    } else if (outcome.kind === "tool_error") {
      attributes[ATTR.errorType] = "tool_error";
    }
    if (call.span) {
      call.span.setAttributes({ ...attributes, [ATTR.outcome]: outcome.kind });
      if (outcome.kind === "error") call.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
      else if (outcome.kind === "tool_error") call.span.setStatus({ code: SpanStatusCode.ERROR });
      call.span.end();
    }
    if (instruments) {
      instruments.duration.record((performance.now() - call.start) / 1000, attributes);
      const base = { [ATTR.methodName]: ctx.method, ...(ctx.upstream ? { [ATTR.upstream]: ctx.upstream } : {}) };
      instruments.calls.add(1, { ...base, [ATTR.outcome]: outcome.kind });
      if (attributes[ATTR.errorType] !== undefined) instruments.errors.add(1, { ...base, [ATTR.errorType]: attributes[ATTR.errorType] });
    }
  };

  return definePlugin({
    name: "otel",
    // First in: the span covers the other plugins' hooks, and blocks by them end it as errors.
    priority: options.priority ?? -1000,
    when: options.when,
    // Telemetry never fails a call.
    onError: "fail-open",
    hooks: {
      "mcp:before": ({ params }, ctx) => {
        const { forward } = begin(ctx, params);
        return forward ? { payload: { params: forward } } : undefined;
      },
      "mcp:after": ({ result }, ctx) => {
        finish(ctx, { kind: ctx.method === "tools/call" && result.isError === true ? "tool_error" : "ok" });
      },
      "mcp:error": (error, ctx) => finish(ctx, { kind: "error", error }),
      "mcp:input_required": (_result, ctx) => finish(ctx, { kind: "input_required" }),
    },
  });
}

/** The registered SDK's tracer, or `undefined` while the global provider is still the API's no-op proxy. */
function activeTracer(name: string): Tracer | undefined {
  const provider = trace.getTracerProvider() as TracerProvider & { getDelegateTracer?: (name: string) => Tracer | undefined };
  // ProxyTracerProvider (what the API hands out) answers undefined until an SDK provider is set as its delegate.
  if (typeof provider.getDelegateTracer === "function") return provider.getDelegateTracer(name);
  return provider.getTracer(name);
}

/** Instruments on the registered SDK's meter, or `undefined` when the API would hand out its no-op meter. */
function activeInstruments(): Instruments | undefined {
  const meter = metrics.getMeter(SCOPE);
  if (meter === createNoopMeter()) return undefined;
  return {
    calls: meter.createCounter("mcp.gateway.calls", { description: "Routed MCP requests, by method, upstream and outcome.", unit: "{request}" }),
    errors: meter.createCounter("mcp.gateway.errors", { description: "Routed MCP requests that failed (JSON-RPC error or tool error).", unit: "{request}" }),
    duration: meter.createHistogram("mcp.server.operation.duration", {
      description: "MCP request duration as observed by the gateway, from receipt until the result or error is ready.",
      unit: "s",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
}

function userAttributes(options: OtelOptions, ctx: HookContext): Record<string, string> | undefined {
  if (!options.attributes) return undefined;
  try {
    return options.attributes(ctx);
  } catch (error) {
    ctx.log.warn(`otel: attributes() failed: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}
