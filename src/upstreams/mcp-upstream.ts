import { AsyncLocalStorage } from "node:async_hooks";
import { deliverResponsesAfterNotifications } from "./ordered-delivery.ts";
import { Client, ProtocolError, type Transport } from "@modelcontextprotocol/client";
import { SERVER_INFO_META_KEY, type ServerCapabilities } from "@modelcontextprotocol/server";
import type { ResolvedUpstream } from "../config/types.ts";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import { passthroughSchema } from "../_utils/passthrough.ts";
import { forwardIdentity } from "../auth/forward-identity.ts";
import { UpstreamLifecycle } from "./lifecycle.ts";
import { createClientTransport } from "./transports.ts";
import type {
  Caller,
  RpcMessage,
  Upstream,
  UpstreamEvent,
  UpstreamRequestOptions,
  UpstreamStatus,
} from "./types.ts";

/** Server→client requests the gateway accepts from upstreams and hands to the owning client. */
const SERVER_REQUESTS = ["sampling/createMessage", "elicitation/create", "roots/list"] as const;

export interface McpUpstreamOptions {
  config: ResolvedUpstream;
  log: Logger;
  /** Implementation name/version the gateway presents to upstreams. */
  clientInfo: { name: string; version: string };
}

/**
 * An upstream MCP server reached through an SDK v2 `Client` (stdio, streamable HTTP, SSE or WebSocket).
 * Owns one connection at a time and supervises it: reconnects with backoff when it drops.
 */
export class McpUpstream implements Upstream {
  readonly name: string;
  readonly #config: ResolvedUpstream;
  readonly #log: Logger;
  readonly #clientInfo: { name: string; version: string };
  readonly #life: UpstreamLifecycle;
  /** Callers of requests in flight, to attribute server→client requests when the transport can't. */
  readonly #inflight = new Map<number, Caller>();
  /** The caller whose request a message arrived for, when the transport reads it in that request's context (HTTP streams). */
  readonly #callerContext = new AsyncLocalStorage<Caller>();
  /**
   * Only a streamable HTTP upstream answers on a per-request stream, so only there can the context attribute a
   * server→client request. Elsewhere (one shared pipe or socket) `run` would buy nothing but turn on Node's promise
   * hooks for the whole process, a cost on every promise of every request.
   */
  readonly #scopedStreams: boolean;
  /** Identity headers of the request being sent (`forwardIdentity: { as: "headers" }`), read by HTTP transports. */
  readonly #forwardHeaders = new AsyncLocalStorage<Record<string, string>>();
  #client?: Client;
  #nextInflight = 0;
  #closed = false;
  #connecting?: Promise<void>;
  #inflightCount = 0;
  /** Era learned on an earlier connect; later connects skip the probe. */
  #knownEra?: "legacy" | "modern";
  #drained?: () => void;

  constructor(options: McpUpstreamOptions) {
    this.name = options.config.name;
    this.#config = options.config;
    this.#log = options.log.withTag(`upstream:${this.name}`);
    this.#clientInfo = options.clientInfo;
    this.#scopedStreams = options.config.type === "streamable-http";
    this.#life = new UpstreamLifecycle(this.name, this.#config.restart, this.#log, () => void this.start());
  }

  status(): UpstreamStatus {
    return this.#life.status();
  }

  capabilities(): ServerCapabilities | undefined {
    return this.#life.status().state === "connected" ? this.#client?.getServerCapabilities() : undefined;
  }

  start(): Promise<void> {
    this.#connecting ??= this.#callerContext.exit(() => this.#connect()).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async request(message: RpcMessage, options: UpstreamRequestOptions = {}): Promise<Record<string, unknown>> {
    const client = this.#client;
    if (!client || this.#life.status().state !== "connected" || this.#closed) throw this.#life.unavailable();
    const forwarded = options.identity && this.#config.forwardIdentity ? await forwardIdentity(this.#config.forwardIdentity, options.identity, this.name) : undefined;
    const params = forwarded && Object.keys(forwarded.meta).length > 0 ? { ...message.params, _meta: { ...(message.params?._meta as Record<string, unknown> | undefined), ...forwarded.meta } } : message.params;
    const id = this.#nextInflight++;
    if (options.caller) this.#inflight.set(id, options.caller);
    this.#inflightCount++;
    const timeout = options.timeout ?? this.#config.timeout;
    const send = () =>
      client.request({ method: message.method as "ping", params }, passthroughSchema, {
        signal: options.signal,
        timeout,
        maxTotalTimeout: timeout,
        onprogress: options.onProgress,
        allowInputRequired: options.allowInputRequired,
      });
    try {
      const headers = forwarded?.headers;
      const run = headers && Object.keys(headers).length > 0 ? () => this.#forwardHeaders.run(headers, send) : send;
      return withoutServerInfo(await (options.caller && this.#scopedStreams ? this.#callerContext.run(options.caller, run) : run()));
    } catch (error) {
      throw this.#wrapError(error, message.method, timeout);
    } finally {
      this.#inflight.delete(id);
      if (--this.#inflightCount === 0) this.#drained?.();
    }
  }

  async notify(message: RpcMessage): Promise<void> {
    if (this.#life.status().state !== "connected") return;
    await this.#client?.notification({ method: message.method as "notifications/initialized", params: message.params });
  }

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    return this.#life.subscribe(listener);
  }

  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (options.drainMs && this.#inflightCount > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.drainMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    this.#life.close();
    await client?.close().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const era = this.#config.protocol === "legacy" ? "legacy" : this.#config.protocol === "2026-07-28" ? "modern" : this.#knownEra;
    const leanHttp = this.#config.type === "streamable-http" && era !== undefined;
    const client = this.#createClient(era);
    let transport: Transport;
    try {
      transport = createClientTransport(this.#config, (line) => this.#log.info(line), {
        leanHttp,
        requestHeaders: () => this.#forwardHeaders.getStore(),
        onNoise: (line) => this.#log.warn(`ignored a stdout line that is not JSON-RPC: ${line}`),
      });
      await client.connect(transport, { timeout: Math.min(this.#config.timeout, 30_000) });
    } catch (error) {
      await client.close().catch(() => {});
      this.#knownEra = undefined;
      this.#lost(error);
      return;
    }
    if (this.#closed) {
      await client.close().catch(() => {});
      return;
    }
    deliverResponsesAfterNotifications(transport);
    const negotiated = client.getProtocolEra?.() === "modern" ? "modern" : "legacy";
    this.#knownEra = negotiated;
    if (this.#config.type === "streamable-http" && !leanHttp) {
      // The probe told us the era: end that session and reconnect once on the lean transport.
      await (transport as { terminateSession?: () => Promise<void> }).terminateSession?.().catch(() => {});
      await client.close().catch(() => {});
      return this.#connect();
    }
    this.#client = client;
    client.onclose = () => {
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      this.#lost(new Error("connection closed"));
    };
    this.#life.connected({ era: negotiated, protocolVersion: client.getNegotiatedProtocolVersion() });
    if (negotiated === "modern") await this.#listen(client);
    this.#log.debug(`connected (${negotiated}, ${client.getNegotiatedProtocolVersion() ?? "?"})`);
  }

  /** 2026-07-28 upstreams deliver change notifications only on a `subscriptions/listen` stream. */
  async #listen(client: Client): Promise<void> {
    const caps = client.getServerCapabilities() ?? {};
    const filter = {
      toolsListChanged: caps.tools?.listChanged === true || undefined,
      promptsListChanged: caps.prompts?.listChanged === true || undefined,
      resourcesListChanged: caps.resources?.listChanged === true || undefined,
    };
    if (!filter.toolsListChanged && !filter.promptsListChanged && !filter.resourcesListChanged) return;
    try {
      const sub = await client.listen(filter);
      void sub.closed.then((reason) => {
        if (reason === "remote" && this.#client === client && !this.#closed) void this.#listen(client);
      });
    } catch (error) {
      this.#log.warn(`could not open subscriptions/listen: ${describeError(error)}`);
    }
  }

  #createClient(era: "legacy" | "modern" | undefined): Client {
    const mode =
      this.#config.type === "sse" || this.#config.protocol === "legacy" || era === "legacy"
        ? ({ mode: "legacy" } as const)
        : this.#config.protocol === "2026-07-28" || era === "modern"
          ? ({ mode: { pin: "2026-07-28" } } as const)
          : ({ mode: "auto" } as const);
    const client = new Client(this.#clientInfo, {
      capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
      versionNegotiation: mode,
    });
    for (const method of SERVER_REQUESTS) {
      client.setRequestHandler(method, (request, ctx) =>
        this.#onServerRequest({ method, params: request.params as Record<string, unknown> | undefined }, ctx.mcpReq.signal) as never,
      );
    }
    client.fallbackNotificationHandler = async (notification) => {
      this.#life.emit({
        type: "notification",
        upstream: this.name,
        message: { method: notification.method, params: notification.params as Record<string, unknown> | undefined },
      });
    };
    client.onerror = (error) => this.#log.debug(`protocol error: ${describeError(error)}`);
    return client;
  }

  /** Route a server→client request to the one client session that caused it; never guess. */
  #onServerRequest(request: RpcMessage, signal: AbortSignal): Promise<Record<string, unknown>> {
    const caller = this.#callerContext.getStore() ?? this.#soleCaller();
    if (!caller) {
      throw new ProtocolError(
        JsonRpcCode.Unattributable,
        `Gateway cannot attribute ${request.method} to exactly one client session`,
      );
    }
    return caller.handleServerRequest(request, signal);
  }

  #soleCaller(): Caller | undefined {
    let sole: Caller | undefined;
    for (const caller of this.#inflight.values()) {
      if (sole && sole.id !== caller.id) return undefined;
      sole = caller;
    }
    return sole;
  }

  #lost(error: unknown): void {
    if (!this.#closed) this.#life.lost(error);
  }

  #wrapError(error: unknown, method: string, timeout: number): unknown {
    if (error instanceof GatewayError || error instanceof ProtocolError) return error;
    const message = describeError(error);
    if (/timed? ?out/i.test(message)) {
      return new GatewayError("UPSTREAM_TIMEOUT", `Upstream "${this.name}" did not answer ${method} within ${timeout} ms`, {
        status: 504,
        rpcCode: JsonRpcCode.UpstreamError,
        cause: error,
      });
    }
    return new GatewayError("UPSTREAM_ERROR", `Upstream "${this.name}" failed on ${method}: ${message}`, {
      status: 502,
      rpcCode: JsonRpcCode.UpstreamError,
      cause: error,
    });
  }
}

/**
 * A 2026-07-28 upstream stamps its own `serverInfo` into every result's `_meta`; towards the client the gateway is the
 * server (and stamps its own), so the upstream's identity is a hop-by-hop detail like its request ids.
 */
function withoutServerInfo(result: Record<string, unknown>): Record<string, unknown> {
  const meta = result._meta as Record<string, unknown> | undefined;
  if (typeof meta !== "object" || meta === null || !(SERVER_INFO_META_KEY in meta)) return result;
  const { [SERVER_INFO_META_KEY]: _, ...rest } = meta;
  const { _meta: __, ...others } = result;
  return Object.keys(rest).length > 0 ? { ...others, _meta: rest } : others;
}
