import { context, propagation, trace, type Context, type Link, type TextMapGetter } from "@opentelemetry/api";
import { isRecord } from "./attributes.ts";

type Json = Record<string, unknown>;

const metaGetter: TextMapGetter<Json> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : undefined;
  },
};

const headersGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * The parent of a call's span, with the globally registered propagator. As the MCP semantic conventions ask, the
 * context in `params._meta` wins and the transport's (the HTTP `traceparent` header, else the ambient span) becomes a
 * link; without `_meta` context the transport's is the parent.
 */
export function extractParent(meta: Json | undefined, headers: Headers | undefined): { parent: Context; links?: Link[] } {
  const ambient = context.active();
  const ambientSpan = trace.getSpanContext(ambient);
  const transport = headers ? propagation.extract(ambient, headers, headersGetter) : ambient;
  if (!meta) return { parent: transport };
  const fromMeta = propagation.extract(ambient, meta, metaGetter);
  const metaSpan = trace.getSpanContext(fromMeta);
  // Extraction returns a fresh span context only when the carrier held a valid one.
  if (!metaSpan || metaSpan === ambientSpan) return { parent: transport };
  const linked = trace.getSpanContext(transport);
  const links = linked && linked.spanId !== metaSpan.spanId ? [{ context: linked }] : undefined;
  return { parent: fromMeta, links };
}

/**
 * `params` with the span's context written into `_meta` (`traceparent`, `tracestate`, and `baggage` when that
 * propagator is registered), so every upstream transport carries it; `undefined` when the propagator wrote nothing.
 */
export function injectInto(params: Json, spanContext: Context): Json | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(spanContext, carrier);
  if (Object.keys(carrier).length === 0) return undefined;
  const meta = isRecord(params._meta) ? { ...params._meta } : {};
  // A client's tracestate belongs to its traceparent, which is being replaced.
  if (carrier.traceparent !== undefined && carrier.tracestate === undefined) delete meta.tracestate;
  return { ...params, _meta: { ...meta, ...carrier } };
}
