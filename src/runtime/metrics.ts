import type { Logger } from "../_utils/logger.ts";
import { describeError } from "../_utils/errors.ts";
import { bucketOf, type EntryKind, type MetricsDelta, type MetricsRepository } from "../storage/repository.ts";

const KIND_OF_METHOD: Record<string, EntryKind> = { "tools/call": "tool", "prompts/get": "prompt", "resources/read": "resource" };

/**
 * Per-entry call metrics, aggregated in memory and written to the database in batches (one transaction per
 * flush), so the hot path never waits on storage. A failed flush keeps the deltas for the next one.
 */
export class MetricsRecorder {
  readonly #repository: MetricsRepository;
  readonly #log: Logger;
  #pending = new Map<string, MetricsDelta>();
  #timer: ReturnType<typeof setInterval>;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: { repository: MetricsRepository; log: Logger; intervalMs?: number }) {
    this.#repository = options.repository;
    this.#log = options.log;
    this.#timer = setInterval(() => void this.flush(), options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Count one finished call of `method` on an entry (only tools/call, prompts/get and resources/read are kept). */
  record(method: string, name: string, latencyMs: number, ok: boolean): void {
    const kind = KIND_OF_METHOD[method];
    if (!kind || !name) return;
    const key = `${kind}\u0000${name}`;
    let delta = this.#pending.get(key);
    if (!delta) {
      delta = { kind, name, calls: 0, errors: 0, minMs: latencyMs, maxMs: latencyMs, sumMs: 0, lastUsed: "", buckets: {} };
      this.#pending.set(key, delta);
    }
    delta.calls++;
    if (!ok) delta.errors++;
    delta.minMs = Math.min(delta.minMs, latencyMs);
    delta.maxMs = Math.max(delta.maxMs, latencyMs);
    delta.sumMs += latencyMs;
    delta.lastUsed = new Date().toISOString();
    const bucket = bucketOf(latencyMs);
    delta.buckets[bucket] = (delta.buckets[bucket] ?? 0) + 1;
  }

  /** Write what is pending; concurrent calls share one write at a time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = [...this.#pending.values()];
      this.#pending = new Map();
      try {
        await this.#repository.addBatch(batch);
      } catch (error) {
        this.#log.warn(`could not store call metrics: ${describeError(error)}`);
        for (const delta of batch) this.#merge(delta);
      }
    });
    return this.#flushing;
  }

  /** Drop what is pending (after a reset through the API). */
  discard(): void {
    this.#pending.clear();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #merge(delta: MetricsDelta): void {
    const key = `${delta.kind}\u0000${delta.name}`;
    const current = this.#pending.get(key);
    if (!current) {
      this.#pending.set(key, delta);
      return;
    }
    current.calls += delta.calls;
    current.errors += delta.errors;
    current.minMs = Math.min(current.minMs, delta.minMs);
    current.maxMs = Math.max(current.maxMs, delta.maxMs);
    current.sumMs += delta.sumMs;
    if (delta.lastUsed > current.lastUsed) current.lastUsed = delta.lastUsed;
    for (const [bucket, count] of Object.entries(delta.buckets)) current.buckets[Number(bucket)] = (current.buckets[Number(bucket)] ?? 0) + count;
  }
}
