import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import WebSocket from "ws";

/** Options for {@link WsClientTransport}. */
export interface WsClientTransportOptions {
  /** Extra handshake headers, e.g. `authorization`. */
  headers?: Readonly<Record<string, string>>;
  /** Largest accepted incoming message in bytes. Default 64 MiB. */
  maxPayload?: number;
  /** Handshake timeout in ms. Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Send a ping after this many ms without traffic; `0` disables. Default 30 000. */
  pingIntervalMs?: number;
}

/**
 * Client side of MCP over WebSocket (subprotocol `mcp`) on the `ws` package: one text frame per JSON-RPC message.
 * Frames that are not JSON-RPC are reported through `onerror` and dropped; the connection stays up.
 * `onclose` runs exactly once, whether the socket was closed, dropped, or never opened: a supervisor reconnects on it.
 */
export class WsClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #url: URL;
  readonly #options: WsClientTransportOptions;
  #socket?: WebSocket;
  #ping?: NodeJS.Timeout;
  #closed = false;

  constructor(url: URL, options: WsClientTransportOptions = {}) {
    this.#url = url;
    this.#options = options;
  }

  /** Opens the connection; rejects with the handshake's HTTP status when the server refuses it. */
  start(): Promise<void> {
    if (this.#socket) throw new Error("WsClientTransport already started");
    const socket = new WebSocket(this.#url, "mcp", {
      headers: { ...this.#options.headers },
      maxPayload: this.#options.maxPayload ?? 64 * 1024 * 1024,
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
    });
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      let open = false;
      // One listener for the socket's whole life: before the handshake an error fails start(), after it goes to onerror.
      socket.on("error", (error) => (open ? this.onerror?.(error) : reject(error)));
      socket.once("unexpected-response", (_req, res) => {
        res.resume();
        reject(new Error(`WebSocket handshake refused: HTTP ${res.statusCode}`));
        socket.terminate();
        this.#finish();
      });
      socket.once("open", () => {
        open = true;
        this.#startPings(socket);
        resolve();
      });
      socket.on("message", (data, isBinary) => this.#receive(isBinary ? null : data.toString()));
      socket.on("close", () => this.#finish());
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) throw new Error("Not connected");
    await new Promise<void>((resolve, reject) => socket.send(JSON.stringify(message), (error) => (error ? reject(error) : resolve())));
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      const closed = new Promise((resolve) => socket.once("close", resolve));
      socket.close(1000, "client closed");
      const timer = setTimeout(() => socket.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    } else if (socket && socket.readyState === WebSocket.CONNECTING) {
      // Closed before the handshake ended (e.g. a connect timeout): abort it rather than leave it to finish later.
      socket.terminate();
    }
    this.#finish();
  }

  #receive(text: string | null): void {
    if (text === null) {
      this.onerror?.(new Error("WebSocket: binary frame ignored (MCP uses text frames)"));
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.onerror?.(new Error("WebSocket: frame is not valid JSON"));
      return;
    }
    // Shape check only: the message is handed on unchanged (the protocol layer above validates it).
    for (const item of Array.isArray(body) ? body : [body]) {
      if (typeof item === "object" && item !== null && (item as { jsonrpc?: unknown }).jsonrpc === "2.0") this.onmessage?.(item as JSONRPCMessage);
      else this.onerror?.(new Error("WebSocket: frame is not a JSON-RPC 2.0 message"));
    }
  }

  #startPings(socket: WebSocket): void {
    const interval = this.#options.pingIntervalMs ?? 30_000;
    if (interval <= 0) return;
    let alive = true;
    socket.on("pong", () => (alive = true));
    socket.on("message", () => (alive = true));
    this.#ping = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, interval);
    this.#ping.unref();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ping);
    this.onclose?.();
  }
}
