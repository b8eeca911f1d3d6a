import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { otel } from "../../plugins/otel/index.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { PluginRunner } from "../../src/plugins/runner.ts";
import type { HookContext } from "../../src/index.ts";

const log = createLogger("silent");

function hookContext(): HookContext {
  return { method: "tools/call", name: "up__echo", upstream: "up", sessionId: "s", signal: new AbortController().signal, log, state: new Map(), retry: false };
}

function reset(): void {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
}

beforeEach(reset);
afterEach(reset);

describe("otel plugin without an OpenTelemetry SDK", () => {
  it("has no hooks when no tracer or meter provider is registered, so the router keeps its no-plugin fast path", async () => {
    const plugin = otel();
    expect(plugin.name).toBe("otel");
    expect(plugin.hooks).toBeUndefined();
    const runner = await PluginRunner.create([plugin], log);
    expect(runner.observesCalls).toBe(false);
    await runner.close();
  });

  it("stays hookless when only a propagator is registered (nothing would be recorded)", () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    expect(otel().hooks).toBeUndefined();
  });

  it("with only a meter provider: records metrics, starts no span and leaves the forwarded params untouched", async () => {
    const meterProvider = new MeterProvider();
    metrics.setGlobalMeterProvider(meterProvider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const plugin = otel();
    expect(plugin.hooks?.["mcp:before"]).toBeTypeOf("function");
    const ctx = hookContext();
    expect(await plugin.hooks!["mcp:before"]!({ params: { name: "up__echo", arguments: {} } }, ctx)).toBeUndefined();
    expect((ctx.state.get("otel") as { span?: unknown }).span).toBeUndefined();
    await meterProvider.shutdown();
  });

  it("picks up a tracer provider registered before it is created (a provider registered later needs a reload)", async () => {
    expect(otel().hooks).toBeUndefined();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    const plugin = otel();
    const ctx = hookContext();
    await plugin.hooks!["mcp:before"]!({ params: { name: "up__echo" } }, ctx);
    await plugin.hooks!["mcp:after"]!({ result: { content: [] } }, ctx);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(["tools/call up__echo"]);
    await provider.shutdown();
  });
});
