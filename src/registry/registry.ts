import type { Logger } from "../_utils/logger.ts";
import { describeError } from "../_utils/errors.ts";
import type { Upstream, UpstreamEvent } from "../upstreams/types.ts";
import { buildCatalog, type Catalog } from "./catalog.ts";
import type { ListCache } from "./list-cache.ts";
import { LISTS, fetchList, type ListKind, type UpstreamSnapshot } from "./snapshot.ts";

/** Which merged lists changed; clients get one `list_changed` per true flag. */
export interface CatalogChange {
  tools: boolean;
  prompts: boolean;
  resources: boolean;
}

interface Member {
  upstream: Upstream;
  prefix: string | false;
  /** Identifies the upstream's config in the shared list cache. */
  fingerprint?: string;
  snapshot?: UpstreamSnapshot;
  unsubscribe: () => void;
  /** In-flight refresh per list, so bursts of list_changed coalesce into at most one extra fetch. */
  refreshing: Partial<Record<ListKind, Promise<void>>>;
  dirty: Set<ListKind>;
}

const KINDS = Object.keys(LISTS) as ListKind[];
const KIND_FOR_NOTIFICATION: Record<string, ListKind[]> = {
  "notifications/tools/list_changed": ["tools"],
  "notifications/prompts/list_changed": ["prompts"],
  "notifications/resources/list_changed": ["resources", "templates"],
};

/**
 * Keeps one snapshot of lists per upstream, refreshed on connect and on `list_changed`,
 * and the merged {@link Catalog} built from them. Upstreams that are not connected are left out.
 */
export class Registry {
  #members = new Map<string, Member>();
  #catalog: Catalog = buildCatalog([], "__");
  #listeners = new Set<(change: CatalogChange) => void>();
  readonly #separator: string;
  readonly #log: Logger;
  readonly #cache?: ListCache;

  constructor(options: { separator: string; log: Logger; cache?: ListCache }) {
    this.#separator = options.separator;
    this.#log = options.log;
    this.#cache = options.cache;
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  /** Replace the set of upstreams (config order matters: earlier upstreams win name clashes). */
  setUpstreams(list: readonly { upstream: Upstream; prefix: string | false; fingerprint?: string }[]): void {
    const before = listedMembers(this.#members);
    const next = new Map<string, Member>();
    for (const { upstream, prefix, fingerprint } of list) {
      const existing = this.#members.get(upstream.name);
      if (existing && existing.upstream === upstream) {
        existing.prefix = prefix;
        next.set(upstream.name, existing);
        continue;
      }
      existing?.unsubscribe();
      const member: Member = { upstream, prefix, fingerprint, unsubscribe: () => {}, refreshing: {}, dirty: new Set() };
      member.unsubscribe = upstream.subscribe((event) => this.#onEvent(member, event));
      next.set(upstream.name, member);
      if (upstream.status().state === "connected") void this.#refresh(member, KINDS);
    }
    for (const [name, member] of this.#members) if (!next.has(name)) member.unsubscribe();
    this.#members = next;
    // An unchanged config (a `dev` save that touched nothing) must not make every client re-list.
    if (listedMembers(next) !== before) this.#rebuild({ tools: true, prompts: true, resources: true });
  }

  /** Wait until every connected upstream has a snapshot (used at start-up and in tests). */
  async settled(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const pending = [...this.#members.values()].flatMap((m) => Object.values(m.refreshing));
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  onChange(listener: (change: CatalogChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const member of this.#members.values()) member.unsubscribe();
    this.#members.clear();
    this.#listeners.clear();
  }

  #onEvent(member: Member, event: UpstreamEvent): void {
    if (event.type === "status") {
      if (event.status.state === "connected") {
        void this.#refresh(member, KINDS);
      } else if (member.snapshot) {
        member.snapshot = undefined;
        this.#rebuild({ tools: true, prompts: true, resources: true });
      }
      return;
    }
    const kinds = KIND_FOR_NOTIFICATION[event.message.method];
    if (kinds) void this.#refresh(member, kinds, true);
  }

  /** `changed`: the upstream said so; the cached copy is dropped and not read. */
  #refresh(member: Member, kinds: ListKind[], changed = false): Promise<void> {
    const jobs = kinds.map((kind) => {
      const running = member.refreshing[kind];
      if (running) {
        member.dirty.add(kind);
        return running;
      }
      const job = this.#fetch(member, kind, changed).finally(() => {
        delete member.refreshing[kind];
        if (member.dirty.delete(kind)) void this.#refresh(member, [kind], true);
      });
      member.refreshing[kind] = job;
      return job;
    });
    return Promise.all(jobs).then(() => {});
  }

  /**
   * Fetch one list. With a cache, a connect first serves the cached copy (stale-while-revalidate: the catalog is
   * complete before a slow upstream answers), then the upstream's answer replaces it and is stored.
   */
  async #fetch(member: Member, kind: ListKind, changed: boolean): Promise<void> {
    const cache = member.fingerprint ? this.#cache : undefined;
    if (cache && changed) await cache.invalidate(member.fingerprint!, kind);
    else if (cache) {
      const cached = await cache.get(member.fingerprint!, kind);
      if (cached) this.#apply(member, kind, cached);
    }
    let items: Record<string, unknown>[];
    try {
      items = await fetchList(member.upstream, kind);
    } catch (error) {
      this.#log.warn(`could not refresh ${LISTS[kind].method} of upstream "${member.upstream.name}": ${describeError(error)}`);
      return;
    }
    if (cache) void cache.set(member.fingerprint!, kind, items);
    this.#apply(member, kind, items);
  }

  #apply(member: Member, kind: ListKind, items: Record<string, unknown>[]): void {
    if (this.#members.get(member.upstream.name) !== member || member.upstream.status().state !== "connected") return;
    const snapshot = member.snapshot ?? { tools: [], prompts: [], resources: [], templates: [] };
    if (member.snapshot && JSON.stringify(snapshot[kind]) === JSON.stringify(items)) return;
    member.snapshot = { ...snapshot, [kind]: items };
    this.#rebuild({ tools: kind === "tools", prompts: kind === "prompts", resources: kind === "resources" || kind === "templates" });
  }

  #rebuild(change: CatalogChange): void {
    const sources = [...this.#members.values()]
      .filter((m) => m.snapshot)
      .map((m) => ({ name: m.upstream.name, prefix: m.prefix, snapshot: m.snapshot! }));
    const catalog = buildCatalog(sources, this.#separator);
    for (const conflict of catalog.conflicts) {
      if (!this.#catalog.conflicts.includes(conflict)) this.#log.error(`name collision: ${conflict}`);
    }
    for (const warning of catalog.shadowed) {
      if (!this.#catalog.shadowed.includes(warning)) this.#log.warn(warning);
    }
    this.#catalog = catalog;
    for (const listener of this.#listeners) listener(change);
  }
}

/** What the merged catalog depends on besides the snapshots themselves: which listed upstreams, in which order, under which prefix. */
function listedMembers(members: ReadonlyMap<string, Member>): string {
  return JSON.stringify([...members.values()].filter((m) => m.snapshot).map((m) => [m.upstream.name, m.prefix]));
}
