import type { ResolvedRestartPolicy } from "../config/types.ts";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import { backoffDelay } from "../_utils/backoff.ts";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import type { UpstreamEvent, UpstreamStatus } from "./types.ts";

/**
 * The state every upstream kind shares: its status, its listeners, and restarts with exponential backoff
 * (given up after `restart.maxRetries`). The upstream calls `connected()` / `lost(error)`; this decides what next.
 */
export class UpstreamLifecycle {
  #status: UpstreamStatus = { state: "connecting", restarts: 0, since: Date.now() };
  readonly #listeners = new Set<(event: UpstreamEvent) => void>();
  #attempt = 0;
  #timer?: NodeJS.Timeout;
  #closed = false;

  constructor(
    readonly name: string,
    private readonly restart: ResolvedRestartPolicy,
    private readonly log: Logger,
    /** What to do when a restart is due (connect again). */
    private readonly reconnect: () => void,
    /** How the log line describes a restart, e.g. "reconnecting". */
    private readonly retryVerb = "reconnecting",
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  status(): UpstreamStatus {
    return { ...this.#status };
  }

  subscribe(listener: (event: UpstreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: UpstreamEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error(`listener failed: ${describeError(error)}`);
      }
    }
  }

  set(next: Partial<UpstreamStatus> & Pick<UpstreamStatus, "state">): void {
    this.#status = { restarts: this.#status.restarts, ...next, since: Date.now() };
    this.emit({ type: "status", upstream: this.name, status: this.status() });
  }

  /** A connect succeeded: the backoff starts over. */
  connected(details: Partial<UpstreamStatus> = {}): void {
    this.#attempt = 0;
    this.set({ lastError: this.#status.lastError, ...details, state: "connected" });
  }

  /** A connect failed or the connection dropped: schedule a restart, or give up after `maxRetries`. */
  lost(error: unknown): void {
    if (this.#closed) return;
    const lastError = describeError(error);
    if (this.#attempt >= this.restart.maxRetries) {
      this.set({ state: "failed", lastError });
      this.log.error(`giving up after ${this.#attempt} attempts: ${lastError}`);
      return;
    }
    const delay = backoffDelay(this.#attempt++, this.restart.initialDelayMs, this.restart.maxDelayMs);
    this.set({ state: "restarting", lastError, restarts: this.#status.restarts + 1 });
    this.log.warn(`${lastError}; ${this.retryVerb} in ${delay} ms`);
    this.#timer = setTimeout(this.reconnect, delay);
    this.#timer.unref?.();
  }

  /** The error a request gets while the upstream is not connected. */
  unavailable(): GatewayError {
    return new GatewayError("UPSTREAM_UNAVAILABLE", `Upstream "${this.name}" is ${this.#status.state}`, {
      status: 503,
      rpcCode: JsonRpcCode.UpstreamError,
    });
  }

  /** Stop restarting; the final `closed` status still reaches listeners, then they are dropped. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.set({ state: "closed" });
    this.#listeners.clear();
  }
}
