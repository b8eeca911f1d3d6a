import type { Server } from "@modelcontextprotocol/server";
import type { SessionInfo } from "./session-server.ts";

/** One connected client of the session-based eras (2025-11-25 streamable HTTP, or legacy SSE). */
export interface ClientSession {
  info: SessionInfo;
  kind: "streamable-http" | "sse";
  server: Server;
}

/** Owns every stateful client session; `closeAll()` leaves the map empty. */
export class SessionStore {
  readonly #sessions = new Map<string, ClientSession>();
  readonly #onDelete?: (id: string) => void;

  constructor(options: { onDelete?: (id: string) => void } = {}) {
    this.#onDelete = options.onDelete;
  }

  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: ClientSession): void {
    this.#sessions.set(session.info.id, session);
  }

  get(id: string, kind: ClientSession["kind"]): ClientSession | undefined {
    const session = this.#sessions.get(id);
    return session?.kind === kind ? session : undefined;
  }

  delete(id: string): void {
    if (this.#sessions.delete(id)) this.#onDelete?.(id);
  }

  values(): IterableIterator<ClientSession> {
    return this.#sessions.values();
  }

  /** Whether another session still wants `resources/updated` for `uri` (the upstream stays subscribed). */
  isSubscribedElsewhere(uri: string, sessionId: string): boolean {
    for (const session of this.#sessions.values()) {
      if (session.info.id !== sessionId && session.info.subscriptions.has(uri)) return true;
    }
    return false;
  }

  async closeAll(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) this.#onDelete?.(session.info.id);
    await Promise.allSettled(sessions.map((s) => s.server.close()));
  }
}
