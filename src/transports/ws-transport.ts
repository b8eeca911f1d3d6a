import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import type { Peer } from "crossws";
import { JsonRpcCode } from "../errors.ts";

/** Options for {@link WsServerTransport}. */
export interface WsServerTransportOptions {
  /** Session id reported as `transport.sessionId`. Defaults to `crypto.randomUUID()`. */
  sessionId?: string;
  /** Bytes buffered for a client that is not reading before the connection is closed with an error. Default 16 MiB. */
  maxQueueBytes?: number;
  /** Largest accepted incoming message in bytes; larger ones close the connection with 1009. Default 4 MiB. */
  maxMessageBytes?: number;
}

/** WebSocket close codes used by the gateway (RFC 6455 §7.4.1). */
export const WsCloseCode = { Normal: 1000, GoingAway: 1001, PolicyViolation: 1008, TooBig: 1009, TryAgainLater: 1013 } as const;

/**
 * Server side of MCP over WebSocket (subprotocol `mcp`) on a crossws `Peer`: one text frame is one JSON-RPC
 * message, one connection is one session. Feed it the peer's frames with {@link WsServerTransport.receive} and
 * tell it about the socket closing with {@link WsServerTransport.closed}.
 */
export class WsServerTransport implements Transport {
  readonly sessionId: string;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport["onmessage"];

  readonly #peer: Peer;
  readonly #maxQueueBytes: number;
  readonly #maxMessageBytes: number;
  #started = false;
  #closed = false;

  constructor(peer: Peer, options: WsServerTransportOptions = {}) {
    this.#peer = peer;
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    this.#maxQueueBytes = options.maxQueueBytes ?? 16 * 1024 * 1024;
    this.#maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error("WsServerTransport already started");
    if (this.#closed) throw new Error("WebSocket session is closed");
    this.#started = true;
  }

  /** Sends one JSON-RPC message as a text frame; closes the session (1013) when the client lets too much queue up. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error("Not connected");
    const queued = this.#peer.bufferedAmount;
    if (queued > this.#maxQueueBytes) {
      const error = new Error(`WebSocket client is not reading: more than ${this.#maxQueueBytes} bytes queued`);
      this.#end(WsCloseCode.TryAgainLater, "client is not reading: send queue full", error);
      throw error;
    }
    this.#peer.send(JSON.stringify(message), { compress: false });
  }

  /** One frame from the client: parsed and delivered, or answered with a JSON-RPC error (the session stays open). */
  receive(text: string): void {
    if (this.#closed) return;
    if (Buffer.byteLength(text) > this.#maxMessageBytes) {
      this.#end(WsCloseCode.TooBig, `message larger than ${this.#maxMessageBytes} bytes`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.#reject(JsonRpcCode.ParseError, "Parse error: frame is not valid JSON");
      return;
    }
    for (const item of Array.isArray(body) ? body : [body]) {
      let message: JSONRPCMessage;
      try {
        message = parseJSONRPCMessage(item);
      } catch {
        this.#reject(JsonRpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message");
        continue;
      }
      this.onmessage?.(message, { request: this.#peer.request });
    }
  }

  /** The socket closed (client went away, or the server closed it). */
  closed(): void {
    this.#finish();
  }

  /** Closes the socket normally and ends the session. Idempotent. */
  async close(): Promise<void> {
    this.#end(WsCloseCode.Normal, "session closed");
  }

  #reject(code: number, message: string): void {
    this.#peer.send(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } }));
  }

  #end(code: number, reason: string, error?: Error): void {
    if (this.#closed) return;
    try {
      this.#peer.close(code, reason);
    } catch {
      // already gone
    }
    this.#finish(error);
  }

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (error) this.onerror?.(error);
    this.onclose?.();
  }
}
