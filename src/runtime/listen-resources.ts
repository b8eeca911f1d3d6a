import { randomUUID } from "node:crypto";
import type { Identity } from "../auth/types.ts";
import { describeError } from "../_utils/errors.ts";
import type { Logger } from "../_utils/logger.ts";
import type { DirectDispatch, SessionInfo } from "./session-server.ts";
import type { SessionStore } from "./sessions.ts";

/**
 * Holds the upstream resource subscriptions of one 2026-07-28 `subscriptions/listen` stream, for as long as it is
 * open; the returned function lets go (idempotent).
 */
export type ListenResources = (uris: readonly string[], who: { identity?: Identity; server?: string }, headers: Headers) => Promise<() => void>;

/** The URIs a `subscriptions/listen` request asks updates for (`params.notifications.resourceSubscriptions`), if any. */
export function resourceSubscriptionsOf(body: unknown): string[] {
  if (typeof body !== "object" || body === null || (body as { method?: unknown }).method !== "subscriptions/listen") return [];
  const wanted = ((body as { params?: { notifications?: unknown } }).params?.notifications ?? {}) as { resourceSubscriptions?: unknown };
  const uris = wanted.resourceSubscriptions;
  return Array.isArray(uris) ? [...new Set(uris.filter((uri): uri is string => typeof uri === "string"))] : [];
}

/**
 * A 2026-07-28 client asks for `resources/updated` through its listen filter; the SDK delivers only what the filter
 * names, but an upstream sends updates only for URIs someone subscribed to. Each listen stream subscribes upstream
 * like a 2025-era session would (same router path, same policy and views), counted by `sessions.isSubscribedElsewhere`,
 * and unsubscribes when the stream ends unless another subscriber still wants the URI.
 */
export function createListenResources(deps: { sessions: SessionStore; dispatchFor: (info: SessionInfo) => DirectDispatch; log: Logger }): ListenResources {
  return async (uris, who, headers) => {
    const info: SessionInfo = { id: `listen-${randomUUID()}`, subscriptions: new Set(), identity: who.identity, server: who.server };
    const dispatch = deps.dispatchFor(info);
    const unwatch = deps.sessions.watch(info);
    const signal = new AbortController().signal;
    for (const uri of uris) {
      // A URI the client may not see, or an upstream without subscriptions: the stream opens anyway, without it.
      await dispatch("resources/subscribe", { uri }, { signal, headers, identity: who.identity }).catch((error: unknown) => {
        info.subscriptions.delete(uri);
        deps.log.debug(`listen: not subscribed to ${uri}: ${describeError(error)}`);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = [...info.subscriptions];
      void Promise.all(
        held.map((uri) => dispatch("resources/unsubscribe", { uri }, { signal, headers, identity: who.identity }).catch(() => {})),
      ).finally(unwatch);
    };
  };
}

/** `response` with its body passed through; `release` runs once when the body ends, fails or is cancelled. */
export function releasedWith(response: Response, release: () => void): Response {
  if (!response.body) {
    release();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          release();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        release();
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
