import { GatewayError, JsonRpcCode } from "../errors.ts";
import { settlesWithin } from "../_utils/timers.ts";

/**
 * The calls an in-process or plain-HTTP upstream (local, REST, A2A) is running, each under its own abort controller;
 * `close` drains, then aborts the rest.
 */
export class InFlightCalls {
  readonly #calls = new Map<AbortController, Promise<unknown>>();

  get size(): number {
    return this.#calls.size;
  }

  /** Count `call` as in flight under `controller` (aborted by `close`) until it settles. */
  track<T>(controller: AbortController, call: Promise<T>): Promise<T> {
    const tracked = call.finally(() => this.#calls.delete(controller));
    this.#calls.set(controller, tracked.catch(() => {}));
    return tracked;
  }

  /**
   * Run `fn` with a signal aborted by `signal`, after `timeout` ms (error -32011 naming `what`), or on close; the call
   * settles when that signal aborts, even if `fn` ignores it.
   */
  run<T>(what: string, timeout: number, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new GatewayError("UPSTREAM_TIMEOUT", `${what} did not finish within ${timeout} ms`, { status: 504, rpcCode: JsonRpcCode.UpstreamError }));
    }, timeout);
    const onAbort = () => controller.abort(signal?.reason ?? new Error("request cancelled"));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const aborted = new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    const call = Promise.race([Promise.resolve().then(() => fn(controller.signal)), aborted]).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    });
    return this.track(controller, call);
  }

  /** Give running calls up to `drainMs` to finish, then abort the rest with `reason`. */
  async close(drainMs: number | undefined, reason: Error): Promise<void> {
    if (drainMs && this.#calls.size > 0) await settlesWithin(Promise.allSettled(this.#calls.values()), drainMs);
    for (const controller of this.#calls.keys()) controller.abort(reason);
    await Promise.allSettled(this.#calls.values());
  }
}
