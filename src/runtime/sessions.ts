import type { Server } from "@modelcontextprotocol/server";
import type { SessionInfo } from "./session-server.ts";

/** One connected client of the session-based eras (2025-11-25 streamable HTTP, or legacy SSE). */
export interface ClientSession {
  info: SessionInfo;
  kind: "streamable-http" | "sse" | "ws";
  /**
   * `modern`: a 2026-07-28 connection (WebSocket only) whose change notifications the SDK routes onto the client's
   * `subscriptions/listen` streams, filtered there. Default `legacy`.
   */
  era?: "legacy" | "modern";
  server: Server;
  /** Epoch ms of the last request routed to this session. */
  lastSeen?: number;
}

/** Owns every stateful client session; `closeAll()` leaves the map empty. */
export class SessionStore {
  readonly #sessions = new Map<string, ClientSession>();
  /** Subscribers without a session of their own (2026-07-28 listen streams), for `isSubscribedElsewhere`. */
  readonly #watchers = new Map<string, SessionInfo>();
  readonly #onDelete?: (id: string) => void;
  readonly #onAdd?: (id: string) => void;
  readonly #sweeper?: NodeJS.Timeout;

  /**
   * @param options.idleTimeoutMs streamable-HTTP sessions without a request for this long are closed (clients
   * re-initialize on the 404 that follows). SSE sessions end when their stream does.
   */
  constructor(options: { onAdd?: (id: string) => void; onDelete?: (id: string) => void; idleTimeoutMs?: number } = {}) {
    this.#onDelete = options.onDelete;
    this.#onAdd = options.onAdd;
    const idle = options.idleTimeoutMs;
    if (idle) {
      this.#sweeper = setInterval(() => this.#expire(idle), Math.min(idle, 60_000));
      this.#sweeper.unref();
    }
  }

  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: ClientSession): void {
    session.lastSeen = Date.now();
    this.#sessions.set(session.info.id, session);
    this.#onAdd?.(session.info.id);
  }

  /** Look a session up for a request; counts as activity. */
  get(id: string, kind: ClientSession["kind"]): ClientSession | undefined {
    const session = this.#sessions.get(id);
    if (session?.kind !== kind) return undefined;
    session.lastSeen = Date.now();
    return session;
  }

  delete(id: string): void {
    if (this.#sessions.delete(id)) this.#onDelete?.(id);
  }

  values(): IterableIterator<ClientSession> {
    return this.#sessions.values();
  }

  /** Whether another session or watcher still wants `resources/updated` for `uri` (the upstream stays subscribed). */
  isSubscribedElsewhere(uri: string, sessionId: string): boolean {
    for (const session of this.#sessions.values()) {
      if (session.info.id !== sessionId && session.info.subscriptions.has(uri)) return true;
    }
    for (const info of this.#watchers.values()) {
      if (info.id !== sessionId && info.subscriptions.has(uri)) return true;
    }
    return false;
  }

  /** Count `info.subscriptions` as wanted until the returned function runs (a subscriber with no session). */
  watch(info: SessionInfo): () => void {
    this.#watchers.set(info.id, info);
    return () => {
      this.#watchers.delete(info.id);
    };
  }

  #expire(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const session of this.#sessions.values()) {
      if (session.kind !== "streamable-http" || (session.lastSeen ?? 0) > cutoff) continue;
      this.delete(session.info.id);
      void session.server.close().catch(() => {});
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#watchers.clear();
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) this.#onDelete?.(session.info.id);
    await Promise.allSettled(sessions.map((s) => s.server.close()));
  }
}
