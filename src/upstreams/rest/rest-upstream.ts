import type { ServerCapabilities } from "@modelcontextprotocol/server";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/server/validators/ajv";
import type { ResolvedRestUpstream } from "../../config/types.ts";
import { GatewayError, JsonRpcCode, unsupportedMethod, upstreamClosed } from "../../errors.ts";
import { describeError } from "../../_utils/errors.ts";
import type { Logger } from "../../_utils/logger.ts";
import { createSafeFetch, type SafeFetch } from "../../net/safe-fetch.ts";
import { InFlightCalls } from "../in-flight.ts";
import { UpstreamLifecycle } from "../lifecycle.ts";
import type { RpcMessage, Upstream, UpstreamEvent, UpstreamRequestOptions, UpstreamStatus } from "../types.ts";
import { createAuthenticator, type RestAuthenticator } from "./auth.ts";
import { CircuitBreaker, type CircuitSnapshot } from "./circuit-breaker.ts";
import { openApiTools, serverUrl } from "./openapi.ts";
import { loadOpenApi } from "./openapi-load.ts";
import { callRestTool, type RestCallStats } from "./rest-call.ts";
import { redact } from "./response.ts";
import { apiLimits, configTool, importedTool, type RestTool } from "./tools.ts";

export interface RestUpstreamOptions {
  config: ResolvedRestUpstream;
  log: Logger;
  /** `network.allow`: hosts/CIDRs the SSRF guard lets through (the configured baseUrl and tokenUrl hosts always are). */
  networkAllow?: readonly string[];
  /** Resolves a relative OpenAPI spec path. Default `process.cwd()`. */
  cwd?: string;
}

/** What `/health` shows about a REST API beyond its state. */
export interface RestMetrics extends RestCallStats {
  circuit?: CircuitSnapshot;
  /** OAuth2 token requests made so far. */
  tokenRequests: number;
}

/**
 * An HTTP API offered as MCP tools: hand-written mappings and/or the operations of an OpenAPI document (loaded at
 * `start()`; a document that cannot be loaded, or two operations with one tool name, leave the upstream `failed`).
 * Every request goes through the SSRF guard; credentials never appear in results, errors or logs.
 */
export class RestUpstream implements Upstream {
  readonly name: string;
  readonly #config: ResolvedRestUpstream;
  readonly #log: Logger;
  readonly #life: UpstreamLifecycle;
  readonly #fetch: SafeFetch;
  /** Fetch for the spec and remote refs: only `network.allow` (the spec host is not implicitly trusted). */
  readonly #specFetch: SafeFetch;
  readonly #auth: RestAuthenticator;
  readonly #breaker?: CircuitBreaker;
  readonly #stats: RestCallStats = { calls: 0, failures: 0, retries: 0, shortCircuited: 0, inFlight: 0 };
  readonly #calls = new InFlightCalls();
  readonly #cwd: string;
  #tools = new Map<string, RestTool>();
  #baseUrl?: string;
  #starting?: Promise<void>;
  #closed = false;

  constructor(options: RestUpstreamOptions) {
    const { config } = options;
    this.name = config.name;
    this.#config = config;
    this.#cwd = options.cwd ?? process.cwd();
    this.#log = options.log.withTag(`upstream:${this.name}`);
    this.#life = new UpstreamLifecycle(this.name, config.restart, this.#log, () => void this.start(), "loading the API again");
    const api = config.api;
    const trusted = [api.baseUrl, api.auth?.type === "oauth2" ? api.auth.tokenUrl : undefined]
      .filter((u): u is string => !!u)
      .map((u) => new URL(u).hostname.replace(/^\[|\]$/g, ""));
    const maxTimeout = Math.max(config.timeout, ...Object.values(api.tools ?? {}).map((t) => t.timeout ?? 0));
    this.#fetch = createSafeFetch({ allow: [...trusted, ...(options.networkAllow ?? [])], timeoutMs: maxTimeout + 5_000 });
    this.#specFetch = createSafeFetch({ allow: [...(options.networkAllow ?? [])], timeoutMs: 30_000 });
    this.#auth = createAuthenticator(api.auth, this.#fetch);
    if (api.circuitBreaker !== false) {
      this.#breaker = new CircuitBreaker(api.circuitBreaker?.failureThreshold ?? 5, api.circuitBreaker?.cooldownMs ?? 30_000);
    }
  }

  status(): UpstreamStatus {
    const status = this.#life.status();
    const circuit = this.#breaker?.snapshot();
    if (status.state === "connected" && circuit?.state === "open") {
      return { ...status, lastError: `circuit open after ${circuit.consecutiveFailures} consecutive failures` };
    }
    return status;
  }

  capabilities(): ServerCapabilities | undefined {
    return this.#life.status().state === "connected" ? { tools: { listChanged: false } } : undefined;
  }

  /** Call counters, circuit state and OAuth2 token requests (for `/health`). */
  metrics(): RestMetrics {
    return { ...this.#stats, ...(this.#breaker ? { circuit: this.#breaker.snapshot() } : {}), tokenRequests: this.#auth.tokenRequests };
  }

  start(): Promise<void> {
    this.#starting ??= this.#load().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async request(message: RpcMessage, options: UpstreamRequestOptions = {}): Promise<Record<string, unknown>> {
    if (this.#life.status().state !== "connected" || this.#closed) throw this.#life.unavailable();
    switch (message.method) {
      case "ping":
        return {};
      case "tools/list":
        return { tools: [...this.#tools.values()].map((t) => t.listed) };
      case "tools/call": {
        const name = String(message.params?.name ?? "");
        const tool = this.#tools.get(name);
        if (!tool) throw new GatewayError("BAD_REQUEST", `Unknown tool: ${name}`, { status: 400, rpcCode: JsonRpcCode.InvalidParams });
        return this.#track((signal) => callRestTool(tool, message.params?.arguments, this.#context(), signal), options);
      }
      default:
        throw unsupportedMethod(this.name, message.method, "a REST API");
    }
  }

  /** A REST API has no notifications to receive. */
  async notify(): Promise<void> {}

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    return this.#life.subscribe(listener);
  }

  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#starting?.catch(() => {});
    await this.#calls.close(options.drainMs, upstreamClosed(this.name));
    this.#life.close();
  }

  #context() {
    return { api: this.name, baseUrl: this.#baseUrl!, headers: this.#config.api.headers ?? {}, auth: this.#auth, fetch: this.#fetch, breaker: this.#breaker, stats: this.#stats };
  }

  /** Build the tool list (loading the OpenAPI document, if any). Load errors leave the upstream `failed`. */
  async #load(): Promise<void> {
    if (this.#closed) return;
    const api = this.#config.api;
    try {
      const ajv = new AjvJsonSchemaValidator();
      const limits = apiLimits(api, this.#config.timeout);
      const tools = new Map<string, RestTool>();
      let baseUrl = api.baseUrl;
      if (api.openapi) {
        const { spec, include, exclude, allowRemoteRefs } = api.openapi;
        const doc = await loadOpenApi(spec, { fetch: this.#specFetch, allowRemoteRefs, cwd: this.#cwd });
        const imported = openApiTools(doc, { include, exclude });
        for (const skipped of imported.skipped) this.#log.warn(`skipping ${skipped}`);
        for (const tool of imported.tools) tools.set(tool.name, importedTool(tool, limits, ajv));
        baseUrl ??= serverUrl(doc, /^https?:/i.test(spec) ? spec : undefined);
        if (!baseUrl) throw new Error("the OpenAPI document names no absolute server URL; set baseUrl");
      }
      for (const [name, config] of Object.entries(api.tools ?? {})) {
        if (tools.has(name)) throw new Error(`tool name collision: "${name}" is both a configured tool and an imported operation`);
        tools.set(name, configTool(name, config, limits, ajv));
      }
      if (this.#closed) return;
      this.#tools = tools;
      this.#baseUrl = baseUrl;
    } catch (error) {
      const lastError = redact(describeError(error), this.#auth.secrets());
      this.#log.error(`cannot load REST API "${this.name}": ${lastError}`);
      this.#life.set({ state: "failed", lastError });
      return;
    }
    this.#life.connected();
    this.#log.debug(`${this.#tools.size} tool(s) from ${this.#baseUrl}`);
  }

  /** Run one call with its own abort controller (caller signal, overall timeout, close) and count it in flight. */
  #track(run: (signal: AbortSignal) => Promise<Record<string, unknown>>, options: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const call = run(controller.signal).finally(() => {
      options.signal?.removeEventListener("abort", onAbort);
    });
    return this.#calls.track(controller, call);
  }
}
