import type { McpHttpHandler } from "@modelcontextprotocol/server";
import type { CatalogChange } from "../registry/registry.ts";
import type { RpcMessage } from "../upstreams/types.ts";
import type { SessionStore } from "./sessions.ts";

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Tell every client that a merged list changed: session clients directly, 2026-07-28 clients via their listen streams. */
export function fanOutCatalogChange(change: CatalogChange, sessions: SessionStore, modern: readonly McpHttpHandler[]): void {
  for (const session of sessions.values()) {
    const server = session.server;
    if (!server.transport) continue;
    if (change.tools) void server.sendToolListChanged().catch(() => {});
    if (change.prompts) void server.sendPromptListChanged().catch(() => {});
    if (change.resources) void server.sendResourceListChanged().catch(() => {});
  }
  for (const handler of modern) {
    if (change.tools) handler.notify.toolsChanged();
    if (change.prompts) handler.notify.promptsChanged();
    if (change.resources) handler.notify.resourcesChanged();
  }
}

/** Deliver an upstream notification that is not tied to one request (resource updates, log messages). */
export function fanOutUpstreamNotification(message: RpcMessage, sessions: SessionStore, modern: readonly McpHttpHandler[]): void {
  if (message.method === "notifications/resources/updated") {
    const uri = String(message.params?.uri ?? "");
    for (const session of sessions.values()) {
      // A 2026-07-28 connection's listen filter decides (in the SDK) which of its subscriptions get the update.
      if (session.era === "modern" || session.info.subscriptions.has(uri)) void session.server.sendResourceUpdated({ uri }).catch(() => {});
    }
    for (const handler of modern) handler.notify.resourceUpdated(uri);
    return;
  }
  if (message.method === "notifications/message") {
    const level = String(message.params?.level ?? "info");
    for (const session of sessions.values()) {
      // 2026-07-28 clients get log messages only within their own requests, never unsolicited.
      if (session.era === "modern") continue;
      if (session.info.logLevel && LEVELS.indexOf(level) < LEVELS.indexOf(session.info.logLevel)) continue;
      void session.server.notification({ method: "notifications/message", params: message.params as never }).catch(() => {});
    }
  }
}
