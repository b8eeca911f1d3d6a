import { createStorage, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import redisDriver from "unstorage/drivers/redis";
import type { ListKind } from "./snapshot.ts";

type Items = Record<string, unknown>[];

/**
 * Upstream lists shared across restarts and gateway instances (unstorage: memory, or Redis by one config line).
 * Keys carry a fingerprint of the upstream's config, so a changed upstream never reads another's lists.
 */
export interface ListCache {
  get(fingerprint: string, kind: ListKind): Promise<Items | undefined>;
  set(fingerprint: string, kind: ListKind, items: Items): Promise<void>;
  /** Forget lists the upstream said changed (`list_changed`). */
  invalidate(fingerprint: string, kind: ListKind): Promise<void>;
  close(): Promise<void>;
}

export interface ListCacheOptions {
  /** `"memory"` or a `redis://` / `rediss://` URL. */
  url: string;
  /** Entries older than this are ignored. Default 10 minutes. */
  ttlMs?: number;
  /** Key prefix, so several gateways can share one Redis. Default `mcp-gateway:lists`. */
  base?: string;
  /** Connection errors of the store (it keeps reconnecting). */
  onError?: (error: Error) => void;
}

interface Stored {
  at: number;
  items: Items;
}

/** Creates the list cache; failures of the store are swallowed (the cache is an optimisation, never a dependency). */
export function createListCache(options: ListCacheOptions): ListCache {
  const ttlMs = options.ttlMs ?? 600_000;
  const base = options.base ?? "mcp-gateway:lists";
  let storage: Storage;
  if (options.url === "memory") {
    storage = createStorage({ driver: memoryDriver() });
  } else {
    // One reconnect attempt per command: while Redis is away a miss just means asking the upstream.
    const driver = redisDriver({ url: options.url, base, ttl: Math.ceil(ttlMs / 1000), maxRetriesPerRequest: 1, connectTimeout: 2000 });
    const client = (driver.getInstance as () => { on(event: "error", listener: (error: Error) => void): void })();
    client.on("error", (error) => options.onError?.(error));
    storage = createStorage({ driver });
  }
  const key = (fingerprint: string, kind: ListKind) => `${fingerprint}:${kind}`;
  return {
    async get(fingerprint, kind) {
      const stored = await withTimeout(storage.getItem<Stored>(key(fingerprint, kind)), 500).catch(() => null);
      if (!stored || typeof stored !== "object" || !Array.isArray(stored.items)) return undefined;
      return Date.now() - stored.at <= ttlMs ? stored.items : undefined;
    },
    async set(fingerprint, kind, items) {
      await storage.setItem(key(fingerprint, kind), { at: Date.now(), items } satisfies Stored).catch(() => {});
    },
    async invalidate(fingerprint, kind) {
      await storage.removeItem(key(fingerprint, kind)).catch(() => {});
    },
    close: () => storage.dispose(),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("cache timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
