import type { IncomingHttpHeaders } from "node:http";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as HttpTransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from "@modelcontextprotocol/client";
import { SpanKind, SpanStatusCode, context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { DataPointType, MeterProvider, MetricReader, type HistogramMetricData, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { otel } from "../../plugins/otel/index.ts";
import { createGateway, definePlugin, type Gateway } from "../../src/index.ts";
import { firstText, waitFor } from "../_helpers.ts";
import { listen, parseJson, readBody, sendJson } from "../fixtures/http.ts";
import { startLegacyHttpServer, stdioServerCommand, type LegacyHttpServer } from "../fixtures/servers.ts";

/** Pulls metrics on demand (`collect()`), nothing periodic. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

type Json = Record<string, unknown>;
type RpcMessage = { jsonrpc: "2.0"; id?: string | number; method?: string; params?: Json };

/** Just enough MCP for one tool, `meta`, which answers with the `_meta` it received (as JSON text). */
function answerMeta(message: RpcMessage): Json | undefined {
  if (message.id === undefined || !message.method) return undefined;
  const reply = (result: Json) => ({ jsonrpc: "2.0", id: message.id, result });
  switch (message.method) {
    case "initialize":
      return reply({ protocolVersion: message.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "meta", version: "1" } });
    case "tools/list":
      return reply({ tools: [{ name: "meta", inputSchema: { type: "object" } }] });
    case "tools/call":
      return reply({ content: [{ type: "text", text: JSON.stringify(message.params?._meta ?? {}) }] });
    case "ping":
      return reply({});
    default:
      return { jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } };
  }
}

/** The same server over stdio, as a `node -e` script (no SDK in the child); `answerMeta` is plain JS once transpiled. */
const STDIO_META_SERVER = `
const answer = ${answerMeta.toString()};
require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
  let message;
  try { message = JSON.parse(line); } catch { return; }
  const out = answer(message);
  if (out) process.stdout.write(JSON.stringify(out) + "\\n");
});
process.stdin.on("end", () => process.exit(0));
`;

/** A raw 2025-era streamable HTTP upstream that records the headers of every `tools/call` it receives. */
async function startRecordingUpstream() {
  const toolCalls: IncomingHttpHeaders[] = [];
  const http = await listen((req, res) => {
    void (async () => {
      if (req.method === "DELETE") return sendJson(res, 200, {});
      if (req.method !== "POST") return sendJson(res, 405, {});
      const message = parseJson(await readBody(req)) as RpcMessage;
      if (message.method === "tools/call") toolCalls.push(req.headers);
      const out = answerMeta(message);
      if (!out) {
        res.writeHead(202).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json", ...(message.method === "initialize" ? { "mcp-session-id": "rec-1" } : {}) });
      res.end(JSON.stringify(out));
    })();
  });
  return { url: `${http.origin}/mcp`, toolCalls, close: http.close };
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });

let legacy: LegacyHttpServer;
let recording: Awaited<ReturnType<typeof startRecordingUpstream>>;
let gw: Gateway;
let url: string;
let client: ClientV1;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  [legacy, recording] = await Promise.all([startLegacyHttpServer({ name: "up" }), startRecordingUpstream()]);
  const block = definePlugin({ name: "block-add", when: { names: ["*__add"] }, hooks: { "tools/call:before": () => ({ block: "add is disabled" }) } });
  gw = await createGateway({
    log: { level: "silent" },
    plugins: [otel({ attributes: (ctx) => ({ "app.tenant": ctx.identity?.subject ?? "anonymous" }) }), block],
    upstreams: {
      up: { type: "streamable-http", url: legacy.url },
      io: { type: "stdio", ...stdioServerCommand({ name: "io" }) },
      rec: { type: "streamable-http", url: recording.url, protocol: "legacy" },
      rio: { type: "stdio", command: process.execPath, args: ["-e", STDIO_META_SERVER] },
    },
  });
  url = `${(await gw.listen({ port: 0 })).url}/mcp`;
  client = await connect();
});

afterAll(async () => {
  await client?.close();
  await gw?.close();
  await Promise.all([legacy?.close(), recording?.close()]);
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
});

beforeEach(() => exporter.reset());

async function connect(headers?: Record<string, string>): Promise<ClientV1> {
  const c = new ClientV1({ name: "otel-test", version: "1" });
  await c.connect(new HttpTransportV1(new URL(url), headers ? { requestInit: { headers } } : undefined));
  return c;
}

/** The spans named `name`, once `count` of them have ended. */
async function spansNamed(name: string, count = 1): Promise<ReadableSpan[]> {
  const named = () => exporter.getFinishedSpans().filter((s) => s.name === name);
  await waitFor(() => named().length >= count, 5000, `${count} span(s) named ${name}`);
  return named();
}

function sessionId(c: ClientV1): string | undefined {
  return (c.transport as HttpTransportV1).sessionId;
}

describe("otel plugin: spans", () => {
  it.each(["up", "io"])("records one SERVER span per tools/call through the %s upstream, with the MCP semantic-convention attributes", async (up) => {
    expect(firstText(await client.callTool({ name: `${up}__echo`, arguments: { text: "secret-arg" } }))).toBe("secret-arg");
    const spans = await spansNamed(`tools/call ${up}__echo`);
    expect(spans).toHaveLength(1);
    const [span] = spans as [ReadableSpan];
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.instrumentationScope.name).toBe("mcp-gateway");
    expect(span.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": `${up}__echo`,
      "gen_ai.operation.name": "execute_tool",
      "mcp.session.id": sessionId(client),
      "mcp.protocol.version": expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      "network.transport": "tcp",
      "network.protocol.name": "http",
      "mcp.gateway.upstream": up,
      "mcp.gateway.outcome": "ok",
      "app.tenant": "anonymous",
    });
    expect(span.attributes["error.type"]).toBeUndefined();
    // Arguments may hold secrets: not recorded unless asked for.
    expect(JSON.stringify(span.attributes)).not.toContain("secret-arg");
  });

  it.each(["up", "io"])("marks a call the %s upstream fails with a JSON-RPC error: status ERROR, error.type and rpc.response.status_code = the code", async (up) => {
    const error = (await client.callTool({ name: `${up}__throws`, arguments: {} }).catch((e: unknown) => e)) as { code: number; message: string };
    expect(typeof error.code).toBe("number");
    const [span] = (await spansNamed(`tools/call ${up}__throws`)) as [ReadableSpan];
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toContain("boom");
    expect(span.attributes).toMatchObject({
      "error.type": String(error.code),
      "rpc.response.status_code": String(error.code),
      "mcp.gateway.outcome": "error",
    });
  });

  it.each(["up", "io"])("marks an isError tool result from the %s upstream as error.type tool_error", async (up) => {
    const result = await client.callTool({ name: `${up}__fail`, arguments: {} });
    expect(result.isError).toBe(true);
    const [span] = (await spansNamed(`tools/call ${up}__fail`)) as [ReadableSpan];
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({ "error.type": "tool_error", "mcp.gateway.outcome": "tool_error" });
    expect(span.attributes["rpc.response.status_code"]).toBeUndefined();
  });

  it("ends the span as an error when another plugin blocks the call (mcp:error)", async () => {
    await expect(client.callTool({ name: "up__add", arguments: { a: 1, b: 2 } })).rejects.toMatchObject({ code: -32012 });
    const [span] = (await spansNamed("tools/call up__add")) as [ReadableSpan];
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: "add is disabled" });
    expect(span.attributes["error.type"]).toBe("-32012");
  });

  it("gives list calls their own span, named by the method alone", async () => {
    await client.listTools();
    await client.listResources();
    const [tools] = (await spansNamed("tools/list")) as [ReadableSpan];
    expect(tools.attributes["mcp.method.name"]).toBe("tools/list");
    expect(tools.attributes["mcp.gateway.upstream"]).toBeUndefined();
    expect(tools.kind).toBe(SpanKind.SERVER);
    await spansNamed("resources/list");
  });

  it("records a resource read with mcp.resource.uri, keeping the URI out of the span name", async () => {
    const { resources } = await client.listResources();
    const uri = resources.find((r) => r.uri.includes("readme"))?.uri;
    expect(uri).toBeDefined();
    await client.readResource({ uri: uri! });
    const [span] = (await spansNamed("resources/read")) as [ReadableSpan];
    expect(span.attributes).toMatchObject({ "mcp.method.name": "resources/read", "mcp.resource.uri": uri });
  });

  it("makes the span a child of the trace in the client's traceparent HTTP header", async () => {
    const traced = await connect({ traceparent: traceparent(TRACE_ID, CLIENT_SPAN) });
    try {
      await traced.callTool({ name: "up__echo", arguments: { text: "x" } });
      const [span] = (await spansNamed("tools/call up__echo")) as [ReadableSpan];
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
      expect(span.parentSpanContext?.isRemote).toBe(true);
    } finally {
      await traced.close();
    }
  });

  it("prefers the context in params._meta and links the HTTP header's context", async () => {
    const headerTrace = "0af7651916cd43dd8448eb211c80319c";
    const headerSpan = "b7ad6b7169203331";
    const traced = await connect({ traceparent: traceparent(headerTrace, headerSpan) });
    try {
      await traced.callTool({ name: "up__echo", arguments: { text: "x" }, _meta: { traceparent: traceparent(TRACE_ID, CLIENT_SPAN) } });
      const [span] = (await spansNamed("tools/call up__echo")) as [ReadableSpan];
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
      expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[headerTrace, headerSpan]]);
    } finally {
      await traced.close();
    }
  });

  it("starts a new trace when the client sends no context", async () => {
    await client.callTool({ name: "up__echo", arguments: { text: "x" } });
    const [span] = (await spansNamed("tools/call up__echo")) as [ReadableSpan];
    expect(span.parentSpanContext).toBeUndefined();
  });

  it("ends the first round of a 2026-07-28 call at input_required, and traces the retried round on its own (no session id: stateless)", async () => {
    const v2 = new ClientV2({ name: "otel-v2", version: "1" }, { versionNegotiation: { mode: "auto" }, capabilities: { elicitation: { form: {} } } });
    v2.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { answer: "42" } }));
    await v2.connect(new HttpTransportV2(new URL(url)));
    try {
      expect(firstText(await v2.callTool({ name: "up__elicit", arguments: { question: "?" } }))).toBe("answer:42");
      const spans = await spansNamed("tools/call up__elicit", 2);
      expect(spans.map((s) => [s.attributes["mcp.gateway.outcome"], s.attributes["mcp.gateway.retry"]])).toEqual([
        ["input_required", undefined],
        ["ok", true],
      ]);
      for (const span of spans) {
        expect(span.attributes["mcp.session.id"]).toBeUndefined();
        expect(span.attributes["mcp.protocol.version"]).toBe("2026-07-28");
      }
    } finally {
      await v2.close();
    }
  });
});

describe("otel plugin: context reaches the upstream", () => {
  it("puts the span's traceparent in the HTTP headers and params._meta of a legacy streamable HTTP upstream", async () => {
    const before = recording.toolCalls.length;
    const received = JSON.parse(firstText(await client.callTool({ name: "rec__meta", arguments: {} }))) as Json;
    const [span] = (await spansNamed("tools/call rec__meta")) as [ReadableSpan];
    const expected = traceparent(span.spanContext().traceId, span.spanContext().spanId);
    expect(received.traceparent).toBe(expected);
    expect(recording.toolCalls.slice(before).map((h) => h.traceparent)).toEqual([expected]);
  });

  it("puts the span's traceparent in params._meta of a stdio upstream, continuing the client's trace", async () => {
    const received = JSON.parse(
      firstText(await client.callTool({ name: "rio__meta", arguments: {}, _meta: { traceparent: traceparent(TRACE_ID, CLIENT_SPAN), tracestate: "congo=t61rcWkgMzE" } })),
    ) as Json;
    const [span] = (await spansNamed("tools/call rio__meta")) as [ReadableSpan];
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(received.traceparent).toBe(traceparent(TRACE_ID, span.spanContext().spanId));
    expect(received.tracestate).toBe("congo=t61rcWkgMzE");
  });
});

describe("otel plugin: metrics", () => {
  async function collect(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === "mcp-gateway").flatMap((s) => s.metrics);
    return new Map(all.map((m) => [m.descriptor.name, m]));
  }

  const points = (metric: MetricData | undefined) => (metric?.dataPoints ?? []) as { attributes: Json; value: unknown }[];

  it("counts calls by method, upstream and outcome, counts errors, and records the duration histogram in seconds", async () => {
    await client.callTool({ name: "io__echo", arguments: { text: "m" } });
    await client.callTool({ name: "io__fail", arguments: {} });
    await client.callTool({ name: "io__throws", arguments: {} }).catch(() => {});
    await waitFor(() => exporter.getFinishedSpans().length >= 3, 5000, "three spans");
    const collected = await collect();

    const calls = points(collected.get("mcp.gateway.calls"));
    const count = (outcome: string) =>
      calls.find((p) => p.attributes["mcp.method.name"] === "tools/call" && p.attributes["mcp.gateway.upstream"] === "io" && p.attributes["mcp.gateway.outcome"] === outcome)?.value;
    expect(count("ok")).toBeGreaterThanOrEqual(1);
    expect(count("tool_error")).toBeGreaterThanOrEqual(1);
    expect(count("error")).toBeGreaterThanOrEqual(1);

    const errors = points(collected.get("mcp.gateway.errors"));
    const errorTypes = errors.filter((p) => p.attributes["mcp.gateway.upstream"] === "io").map((p) => p.attributes["error.type"]);
    expect(errorTypes).toContain("tool_error");
    expect(errorTypes.some((t) => typeof t === "string" && /^-?\d+$/.test(t))).toBe(true);

    const duration = collected.get("mcp.server.operation.duration") as HistogramMetricData | undefined;
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration?.descriptor.unit).toBe("s");
    const echo = duration?.dataPoints.find((p) => p.attributes["gen_ai.tool.name"] === "io__echo" && p.attributes["error.type"] === undefined);
    expect(echo?.value.count).toBeGreaterThanOrEqual(1);
    expect(echo?.value.sum).toBeGreaterThan(0);
    expect(echo?.value.sum).toBeLessThan(10);
    expect(echo?.value.buckets.boundaries).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]);
    // Per-session and per-call values stay off metrics.
    for (const metric of collected.values()) for (const p of points(metric)) expect(p.attributes["mcp.session.id"]).toBeUndefined();
  });
});
