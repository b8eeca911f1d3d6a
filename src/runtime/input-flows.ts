import { randomUUID } from "node:crypto";
import { GatewayError, JsonRpcCode } from "../errors.ts";
import type { Caller, RpcMessage } from "../upstreams/types.ts";

type Result = Record<string, unknown>;

/** Where the progress of a flow goes during the current round (each retry is a new client request). */
export type ProgressSink = (progress: { progress: number; total?: number; message?: string }) => void;

interface Waiting {
  request: RpcMessage;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * One upstream call that asked its client for input (sampling, elicitation, roots) while running.
 * The upstream keeps waiting; the client answers on a retried request (2026-07-28 `input_required`,
 * or the SDK's legacy shim for older clients), which resumes the same flow.
 */
class Flow {
  readonly id = randomUUID();
  readonly abort = new AbortController();
  readonly waiting = new Map<string, Waiting>();
  done = false;
  round = 0;
  outcome?: { ok: true; value: Result } | { ok: false; error: unknown };
  sink?: ProgressSink;
  #wake?: () => void;
  #counter = 0;
  timer?: NodeJS.Timeout;
  /** Stops listening to the abort signal of the client request that last waited on this flow. */
  detach?: () => void;

  constructor(
    readonly ownerId: string,
    readonly binding: string,
  ) {}

  /** The `Caller` handed to the upstream: each server→client request becomes a pending input request. */
  caller(): Caller {
    return {
      id: this.ownerId,
      handleServerRequest: (request, signal) =>
        new Promise<Result>((resolve, reject) => {
          const key = `input-${++this.#counter}`;
          this.waiting.set(key, { request, resolve, reject });
          signal.addEventListener("abort", () => {
            this.waiting.delete(key);
            reject(signal.reason);
          });
          this.#wake?.();
        }),
    };
  }

  settle(outcome: NonNullable<Flow["outcome"]>): void {
    if (this.done) return;
    this.done = true;
    this.outcome = outcome;
    this.#wake?.();
  }

  /** Resolves when the call finished or at least one input request is waiting for the client. */
  next(): Promise<void> {
    if (this.done || this.waiting.size > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

export interface FlowState {
  flow: string;
  binding: string;
  /** Which round this state answers: each state resumes its flow once (a replay is rejected). */
  round: number;
}

/**
 * Owns every flow waiting for client input; each is dropped (and its upstream call cancelled) when it
 * finishes, when the client stops answering for `ttlMs`, or when the gateway closes.
 */
export class InputFlows {
  readonly #flows = new Map<string, Flow>();
  readonly #ttlMs: number;

  constructor(options: { ttlMs: number }) {
    this.#ttlMs = options.ttlMs;
  }

  get size(): number {
    return this.#flows.size;
  }

  /**
   * Run an upstream call that may ask for client input. Returns either its result or an
   * `input_required` description (`inputRequests` plus the flow state to sign into `requestState`).
   */
  async start(
    ownerId: string,
    binding: string,
    sink: ProgressSink | undefined,
    signal: AbortSignal | undefined,
    call: (caller: Caller, signal: AbortSignal, onProgress: ProgressSink) => Promise<Result>,
  ): Promise<{ result: Result } | { inputRequests: Record<string, RpcMessage>; state: FlowState }> {
    const flow = new Flow(ownerId, binding);
    flow.sink = sink;
    this.#flows.set(flow.id, flow);
    call(flow.caller(), flow.abort.signal, (p) => flow.sink?.(p)).then(
      (value) => flow.settle({ ok: true, value }),
      (error) => flow.settle({ ok: false, error }),
    );
    return this.#round(flow, signal);
  }

  /** Continue a flow with the client's answers (keyed as in `inputRequests`). */
  async resume(
    state: FlowState,
    ownerBinding: string,
    responses: Record<string, unknown> | undefined,
    sink: ProgressSink | undefined,
    signal: AbortSignal | undefined,
  ): ReturnType<InputFlows["start"]> {
    const flow = this.#flows.get(state.flow);
    if (!flow || flow.binding !== state.binding || state.binding !== ownerBinding || flow.round !== state.round) {
      throw new GatewayError("NOT_FOUND", "Unknown or expired requestState", {
        status: 400,
        rpcCode: JsonRpcCode.InvalidParams,
      });
    }
    flow.round++;
    flow.sink = sink;
    for (const [key, response] of Object.entries(responses ?? {})) {
      const waiting = flow.waiting.get(key);
      if (!waiting) continue;
      flow.waiting.delete(key);
      waiting.resolve(response as Result);
    }
    return this.#round(flow, signal);
  }

  /** Cancel every flow (gateway close or reload). */
  close(): void {
    for (const flow of this.#flows.values()) this.#drop(flow, new Error("gateway closing"));
  }

  /** One client round: wait for the result or for input requests; the client cancelling this round cancels the call. */
  async #round(flow: Flow, signal: AbortSignal | undefined): ReturnType<InputFlows["start"]> {
    clearTimeout(flow.timer);
    flow.detach?.();
    const onAbort = () => this.#drop(flow, signal?.reason instanceof Error ? signal.reason : new Error("cancelled by client"));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    flow.detach = () => signal?.removeEventListener("abort", onAbort);
    // Stay attached while input is pending: a 2025-era client answers inside this same request (the SDK's
    // legacy shim), so its cancel or session close arrives here and must cancel the upstream call too.
    await flow.next();
    if (flow.done) {
      this.#drop(flow);
      const outcome = flow.outcome!;
      if (!outcome.ok) throw outcome.error;
      return { result: outcome.value };
    }
    flow.sink = undefined;
    flow.timer = setTimeout(() => this.#drop(flow, new Error("client did not answer input request in time")), this.#ttlMs);
    flow.timer.unref?.();
    const inputRequests = Object.fromEntries([...flow.waiting].map(([key, w]) => [key, w.request]));
    return { inputRequests, state: { flow: flow.id, binding: flow.binding, round: flow.round } };
  }

  #drop(flow: Flow, reason?: Error): void {
    clearTimeout(flow.timer);
    flow.detach?.();
    this.#flows.delete(flow.id);
    if (reason) {
      for (const waiting of flow.waiting.values()) waiting.reject(reason);
      flow.waiting.clear();
      if (!flow.done) {
        flow.abort.abort(reason);
        flow.settle({ ok: false, error: reason });
      }
    }
  }
}
