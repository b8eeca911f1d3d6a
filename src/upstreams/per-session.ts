import type { ServerCapabilities } from "@modelcontextprotocol/server";
import type { ResolvedUpstream } from "../config/types.ts";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import type { Logger } from "../_utils/logger.ts";
import { McpUpstream } from "./mcp-upstream.ts";
import type { RpcMessage, Upstream, UpstreamEvent, UpstreamRequestOptions, UpstreamStatus } from "./types.ts";

export interface PerSessionUpstreamOptions {
  config: ResolvedUpstream;
  log: Logger;
  clientInfo: { name: string; version: string };
  /** Whether `id` is a client session that outlives one request (2025-era sessions); others are per request. */
  isLiveSession: (id: string) => boolean;
}

/**
 * `isolation: "per-session"`: every client session gets its own upstream connection (its own child process
 * for stdio), created on its first call and closed when the session ends. A shared connection is kept only to
 * discover the upstream's lists and capabilities. Stateless 2026-07-28 requests have no session: each gets a
 * connection for the duration of the call (including its input rounds).
 */
export class PerSessionUpstream implements Upstream {
  readonly name: string;
  readonly #discovery: McpUpstream;
  readonly #options: PerSessionUpstreamOptions;
  readonly #sessions = new Map<string, { upstream: McpUpstream; ready: Promise<void>; users: number }>();
  /** Session connections still shutting down (their child may not have exited yet): `close()` waits for them. */
  readonly #ending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: PerSessionUpstreamOptions) {
    this.name = options.config.name;
    this.#options = options;
    this.#discovery = new McpUpstream(options);
  }

  /** Number of open per-session connections (for tests and health). */
  get connections(): number {
    return this.#sessions.size;
  }

  status(): UpstreamStatus {
    return this.#discovery.status();
  }

  capabilities(): ServerCapabilities | undefined {
    return this.#discovery.capabilities();
  }

  start(): Promise<void> {
    return this.#discovery.start();
  }

  async request(message: RpcMessage, options: UpstreamRequestOptions = {}): Promise<Record<string, unknown>> {
    const caller = options.caller;
    if (!caller) return this.#discovery.request(message, options);
    const entry = this.#connection(caller.id);
    entry.users++;
    try {
      await entry.ready;
      if (entry.upstream.status().state !== "connected") {
        throw new GatewayError("UPSTREAM_UNAVAILABLE", `Upstream "${this.name}" could not start a session connection`, {
          status: 503,
          rpcCode: JsonRpcCode.UpstreamError,
        });
      }
      return await entry.upstream.request(message, options);
    } finally {
      entry.users--;
      if (entry.users === 0 && !this.#options.isLiveSession(caller.id)) void this.endSession(caller.id);
    }
  }

  notify(message: RpcMessage): Promise<void> {
    return this.#discovery.notify(message);
  }

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    return this.#discovery.subscribe(listener);
  }

  /** Close the connection of a session that ended. */
  async endSession(id: string): Promise<void> {
    const entry = this.#sessions.get(id);
    if (!entry) return;
    this.#sessions.delete(id);
    await this.#end(entry.upstream);
  }

  async close(options?: { drainMs?: number }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const entries = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled([this.#discovery.close(options), ...entries.map((e) => e.upstream.close(options)), ...this.#ending]);
  }

  #end(upstream: McpUpstream): Promise<void> {
    const ending = upstream.close().finally(() => this.#ending.delete(ending));
    this.#ending.add(ending);
    return ending;
  }

  #connection(id: string): { upstream: McpUpstream; ready: Promise<void>; users: number } {
    let entry = this.#sessions.get(id);
    const state = entry?.upstream.status().state;
    if (entry && (state === "connected" || state === "connecting")) return entry;
    if (entry) void this.#end(entry.upstream);
    if (this.#closed) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", `Upstream "${this.name}" is closed`, { status: 503, rpcCode: JsonRpcCode.UpstreamError });
    }
    // Session connections speak the era discovery found (no second probe) and do not restart on their own.
    const era = this.#discovery.status().era;
    const config = {
      ...this.#options.config,
      protocol: era === "modern" ? ("2026-07-28" as const) : era === "legacy" ? ("legacy" as const) : this.#options.config.protocol,
      restart: { ...this.#options.config.restart, maxRetries: 0 },
    };
    const upstream = new McpUpstream({ ...this.#options, config });
    entry = { upstream, ready: upstream.start(), users: 0 };
    this.#sessions.set(id, entry);
    return entry;
  }
}
