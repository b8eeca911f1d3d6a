import type { ServerCapabilities } from "@modelcontextprotocol/server";
import { A2A_PROTOCOL_VERSION, A2A_VERSION_HEADER, type AgentCard } from "@a2a-js/sdk";
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client } from "@a2a-js/sdk/client";
import { A2AError } from "@a2a-js/sdk/errors";
import type { ResolvedA2aUpstream } from "../config/types.ts";
import { GatewayError, JsonRpcCode, unsupportedMethod, upstreamClosed } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import { callAgent } from "./a2a-call.ts";
import { agentCardUrl, agentTools, type AgentTools } from "./a2a-mapping.ts";
import type { RpcMessage, Upstream, UpstreamEvent, UpstreamRequestOptions, UpstreamStatus } from "./types.ts";
import { InFlightCalls } from "./in-flight.ts";
import { UpstreamLifecycle } from "./lifecycle.ts";
import { createSafeFetch, type SafeFetch } from "../net/safe-fetch.ts";

export interface A2aUpstreamOptions {
  config: ResolvedA2aUpstream;
  log: Logger;
  /** `network.allow`: extra hosts/CIDRs the SSRF guard lets through (the card's own host always is). */
  networkAllow?: readonly string[];
}

/**
 * An A2A agent offered as MCP tools. `start()` reads the agent card (retrying with backoff); `tools/call` sends
 * one A2A message, streaming when the card allows it (updates become progress) and polling the task otherwise.
 * Only the configured headers are sent to the agent.
 */
export class A2aUpstream implements Upstream {
  readonly name: string;
  readonly #config: ResolvedA2aUpstream;
  readonly #log: Logger;
  readonly #cardUrl: string;
  readonly #factory: ClientFactory;
  readonly #resolver: DefaultAgentCardResolver;
  readonly #life: UpstreamLifecycle;
  readonly #safeFetch: SafeFetch;
  /** Calls in flight: aborted (and their tasks cancelled) on close. */
  readonly #calls = new InFlightCalls();
  #client?: Client;
  #card?: AgentCard;
  #tools: AgentTools = { tools: [], skills: new Map() };
  #connecting?: Promise<void>;
  #connectAbort?: AbortController;
  #closed = false;

  constructor(options: A2aUpstreamOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#log = options.log.withTag(`upstream:${this.name}`);
    this.#life = new UpstreamLifecycle(this.name, options.config.restart, this.#log, () => void this.start(), "reading the agent card again");
    this.#cardUrl = agentCardUrl(options.config.url);
    this.#safeFetch = createSafeFetch({
      allow: [new URL(this.#cardUrl).hostname.replace(/^\[|\]$/g, ""), ...(options.networkAllow ?? [])],
      timeoutMs: options.config.timeout + 5_000,
    });
    const fetchImpl = this.#fetch;
    const legacyCompat = { enabled: true };
    this.#resolver = new DefaultAgentCardResolver({ fetchImpl, legacyCompat });
    this.#factory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({ fetchImpl, legacyCompat }), new RestTransportFactory({ fetchImpl, legacyCompat })],
      cardResolver: this.#resolver,
    });
  }

  status(): UpstreamStatus {
    return this.#life.status();
  }

  capabilities(): ServerCapabilities | undefined {
    return this.#life.status().state === "connected" ? { tools: { listChanged: false } } : undefined;
  }

  start(): Promise<void> {
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async request(message: RpcMessage, options: UpstreamRequestOptions = {}): Promise<Record<string, unknown>> {
    const client = this.#client;
    if (!client || this.#life.status().state !== "connected" || this.#closed) throw this.#life.unavailable();
    switch (message.method) {
      case "ping":
        return {};
      case "tools/list":
        return { tools: this.#tools.tools };
      case "tools/call":
        return this.#track((signal) => this.#callTool(client, message.params ?? {}, signal, options), options);
      default:
        throw unsupportedMethod(this.name, message.method, "an A2A agent");
    }
  }

  /** A2A has no client→agent notifications; nothing to forward. */
  async notify(): Promise<void> {}

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    return this.#life.subscribe(listener);
  }

  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#connectAbort?.abort(new Error("upstream closed"));
    await this.#connecting?.catch(() => {});
    await this.#calls.close(options.drainMs, upstreamClosed(this.name));
    this.#client = undefined;
    this.#life.close();
  }

  /**
   * Only the configured headers go to the agent; the SDK's own (content type, A2A-Version) win on a clash. Every
   * request passes the SSRF guard: the card names the RPC endpoint, so a card must not steer us to internal hosts.
   */
  readonly #fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(this.#config.headers);
    new Headers(init?.headers).forEach((value, key) => headers.set(key, value));
    const url = input instanceof Request ? input.url : input;
    return this.#safeFetch(url, { ...init, headers });
  };

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const controller = new AbortController();
    this.#connectAbort = controller;
    const ms = Math.min(this.#config.timeout, 30_000);
    const timer = setTimeout(() => controller.abort(new Error(`no agent card from ${this.#cardUrl} within ${ms} ms`)), ms);
    try {
      const response = await this.#fetch(this.#cardUrl, {
        headers: { [A2A_VERSION_HEADER]: A2A_PROTOCOL_VERSION, Accept: "application/json" },
        signal: controller.signal,
      });
      if (!response.ok) throw new Error(`agent card request to ${this.#cardUrl} failed with HTTP ${response.status}`);
      const raw: unknown = await response.json();
      if (!raw || typeof raw !== "object") throw new Error(`agent card at ${this.#cardUrl} is not a JSON object`);
      const card = this.#resolver.normalizeAgentCard(raw);
      const client = await this.#factory.createFromAgentCard(card);
      if (this.#closed) return;
      this.#card = card;
      this.#client = client;
      this.#tools = agentTools(card, this.#config.skills);
    } catch (error) {
      this.#scheduleReconnect(controller.signal.aborted ? controller.signal.reason : error);
      return;
    } finally {
      clearTimeout(timer);
    }
    this.#life.connected({ protocolVersion: this.#client.protocolVersion });
    this.#log.debug(`connected to agent "${this.#card.name}" (${this.#tools.tools.length} tool(s))`);
  }

  /** Run one call with its own abort controller (caller signal, per-call timeout, close) and count it in flight. */
  #track(run: (signal: AbortSignal) => Promise<Record<string, unknown>>, options: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    const controller = new AbortController();
    const timeout = options.timeout ?? this.#config.timeout;
    const timedOut = new GatewayError("UPSTREAM_TIMEOUT", `Upstream "${this.name}" did not answer tools/call within ${timeout} ms`, {
      status: 504,
      rpcCode: JsonRpcCode.UpstreamError,
    });
    const timer = setTimeout(() => controller.abort(timedOut), timeout);
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const call = run(controller.signal).finally(() => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    });
    return this.#calls.track(controller, call);
  }

  async #callTool(client: Client, params: Record<string, unknown>, signal: AbortSignal, options: UpstreamRequestOptions): Promise<Record<string, unknown>> {
    const name = String(params.name ?? "");
    if (!this.#tools.skills.has(name)) throw invalidParams(`Unknown tool: ${name}`);
    const args = (params.arguments ?? {}) as Record<string, unknown>;
    const { message, contextId, taskId } = args;
    if (typeof message !== "string") throw invalidParams(`Tool "${name}" needs a "message" string`);
    if (contextId !== undefined && typeof contextId !== "string") throw invalidParams('"contextId" must be a string');
    if (taskId !== undefined && typeof taskId !== "string") throw invalidParams('"taskId" must be a string');
    try {
      return await callAgent({
        client,
        streaming: this.#card?.capabilities?.streaming === true,
        message,
        skillId: this.#tools.skills.get(name),
        contextId,
        taskId,
        signal,
        onProgress: options.onProgress,
        log: this.#log,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const agentError = error instanceof A2AError ? error : error instanceof Error && error.cause instanceof A2AError ? error.cause : undefined;
      if (agentError) {
        return { content: [{ type: "text", text: `The agent refused the request: ${agentError.message}` }], isError: true };
      }
      this.#onTransportError(error);
      throw new GatewayError("UPSTREAM_ERROR", `Upstream "${this.name}" failed on tools/call: ${describeError(error)}`, {
        status: 502,
        rpcCode: JsonRpcCode.UpstreamError,
        cause: error,
      });
    }
  }

  /** The agent is unreachable: mark it so (its tools leave the catalog) and re-read its card with backoff. */
  #onTransportError(error: unknown): void {
    if (!isUnreachable(error) || this.#life.status().state !== "connected" || this.#closed) return;
    this.#client = undefined;
    this.#scheduleReconnect((error as { cause?: unknown }).cause ?? error);
  }

  #scheduleReconnect(error: unknown): void {
    if (!this.#closed) this.#life.lost(error);
  }
}

function invalidParams(message: string): GatewayError {
  return new GatewayError("BAD_REQUEST", message, { status: 400, rpcCode: JsonRpcCode.InvalidParams });
}

/** No connection, or the connection dropped: the agent is gone (as opposed to an error it answered with). */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ["ECONNREFUSED", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "UPSTREAM_UNAVAILABLE"].includes(code)) {
    return true;
  }
  const message = error instanceof Error ? error.message : "";
  // undici's wording for the same two cases, should a caller hand us a global-fetch error.
  return message === "fetch failed" || message === "terminated" || message === "socket hang up";
}
