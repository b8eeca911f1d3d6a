import { takeToken, takeWindow, type BucketState } from "./algorithms.ts";
import type { RateLimitRequest, RateLimitResult, RateLimitStore } from "./types.ts";

export interface MemoryStoreOptions {
  /** Most keys kept at once (default 10 000). Past it the least recently used key is forgotten, which only ever errs towards allowing. */
  maxKeys?: number;
}

/** A {@link RateLimitStore} in process memory, for one gateway instance. */
export interface MemoryStore extends RateLimitStore {
  /** Keys currently held (idle ones are dropped as new requests arrive). */
  readonly size: number;
}

interface Entry {
  state: BucketState | number[];
  /** Caller-clock time after which the state is equivalent to none. */
  expiresAt: number;
}

/**
 * In-memory store. Bounded: a key whose state no longer matters (full bucket, empty window) is dropped on a later
 * request, and never more than `maxKeys` are kept. No timers, so nothing to close; it trusts the caller's clock.
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxKeys = options.maxKeys ?? 10_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`memoryStore: maxKeys must be a positive integer, got ${maxKeys}`);
  // Map order is least recently used first: every take re-inserts its key at the end.
  const entries = new Map<string, Entry>();

  function charge(request: RateLimitRequest): RateLimitResult {
    const { now } = request;
    for (const [id, entry] of entries) {
      if (entry.expiresAt > now) break;
      entries.delete(id);
    }
    const id = `${request.algorithm}:${request.key}`;
    const previous = entries.get(id);
    entries.delete(id);
    const outcome =
      request.algorithm === "token-bucket"
        ? takeToken(previous?.state as BucketState | undefined, request)
        : takeWindow((previous?.state as number[] | undefined) ?? [], request);
    entries.set(id, { state: outcome.state, expiresAt: now + outcome.ttlMs });
    for (const [oldest] of entries) {
      if (entries.size <= maxKeys) break;
      entries.delete(oldest);
    }
    return outcome.result;
  }

  return {
    name: "memory",
    get size() {
      return entries.size;
    },
    take: async (request) => charge(request),
  };
}
