import type { ServerCapabilities } from "@modelcontextprotocol/server";
import type { Identity } from "../auth/types.ts";

/** Lifecycle of one upstream connection. */
export type UpstreamState = "connecting" | "connected" | "restarting" | "failed" | "closed";

/** What `/health` reports about an upstream. */
export interface UpstreamStatus {
  state: UpstreamState;
  /** `legacy` = initialize handshake (2025-11-25 and earlier), `modern` = 2026-07-28 stateless. */
  era?: "legacy" | "modern";
  protocolVersion?: string;
  lastError?: string;
  restarts: number;
  /** Epoch ms of the last state change. */
  since: number;
}

/** A JSON-RPC request/notification body without the envelope. */
export interface RpcMessage {
  method: string;
  params?: Record<string, unknown>;
}

/**
 * The client-side party that caused an upstream request: server→client requests the
 * upstream sends while serving it (sampling, elicitation, roots) are delivered here.
 */
export interface Caller {
  /** Stable id of the client session (or the single stateless request) on the gateway side. */
  readonly id: string;
  /** Deliver a server→client request to the client that owns this call; resolves with the client's result. */
  handleServerRequest(request: RpcMessage, signal: AbortSignal): Promise<Record<string, unknown>>;
}

export interface UpstreamRequestOptions {
  signal?: AbortSignal;
  /** Per-call timeout in ms; defaults to the upstream's configured timeout. */
  timeout?: number;
  /** Called with upstream progress (the gateway maps tokens: upstream sees its own). */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
  caller?: Caller;
  /** Return an upstream `input_required` result as-is instead of failing (2026-07-28 upstreams). */
  allowInputRequired?: boolean;
  /** Who the request is for: forwarded only to upstreams configured with `forwardIdentity` (never their credentials). */
  identity?: Identity;
}

export type UpstreamEvent =
  | { type: "notification"; upstream: string; message: RpcMessage }
  | { type: "status"; upstream: string; status: UpstreamStatus };

/**
 * One upstream MCP server (or anything that can act like one), as the router sees it.
 * Implementations: MCP over stdio, streamable HTTP and SSE (`mcp-upstream.ts`, `per-session.ts`) and A2A agents
 * (`a2a-upstream.ts`).
 */
export interface Upstream {
  readonly name: string;
  status(): UpstreamStatus;
  /** Capabilities the upstream advertised on its last successful connect. */
  capabilities(): ServerCapabilities | undefined;
  /** Starts connecting; resolves once connected or after the first failed attempt (never throws). */
  start(): Promise<void>;
  request(message: RpcMessage, options?: UpstreamRequestOptions): Promise<Record<string, unknown>>;
  notify(message: RpcMessage): Promise<void>;
  /** Subscribe to notifications and status changes; returns an unsubscribe function. */
  subscribe(listener: (event: UpstreamEvent) => void): () => void;
  /** Stop: with `drainMs`, requests in flight get up to that long to finish first. Kills/closes the connection. */
  close(options?: { drainMs?: number }): Promise<void>;
  /** A client session ended: release what this upstream holds for it (per-session connections). */
  endSession?(sessionId: string): Promise<void>;
}
