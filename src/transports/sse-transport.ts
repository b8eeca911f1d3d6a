import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";

/** Options for {@link SseServerTransport}. */
export interface SseServerTransportOptions {
  /** Where the client POSTs its messages: a path relative to the SSE URL or absolute, e.g. `"/messages"`. */
  messagesPath: string;
  /** Session id put in the endpoint URL as `?sessionId=`. Defaults to `crypto.randomUUID()`. */
  sessionId?: string;
  /** Interval of `: ping` comment frames that keep proxies from dropping an idle stream; `0` disables. Default 15 000. */
  keepAliveMs?: number;
  /** Bytes buffered for a client that is not reading before the session is closed with an error. Default 16 MiB. */
  maxQueueBytes?: number;
}

/** Same code and status the SDK's streamable HTTP transport uses for an unknown or closed session. */
const SESSION_NOT_FOUND = -32001;

/**
 * Server side of the legacy HTTP+SSE MCP transport (protocol 2024-11-05), on fetch `Request`/`Response`.
 *
 * One instance is one session: answer the GET with {@link SseServerTransport.response | response()},
 * route each `POST <messagesPath>?sessionId=<id>` to {@link SseServerTransport.handlePostMessage | handlePostMessage()}.
 * Connect the MCP `Server` (which calls `start()` and so writes the `endpoint` event) before or right after
 * returning the response.
 */
export class SseServerTransport implements Transport {
  /** Session id the client echoes back on every POST. */
  readonly sessionId: string;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: Transport["onmessage"];

  readonly #endpoint: string;
  readonly #keepAliveMs: number;
  readonly #maxQueueBytes: number;
  readonly #encoder = new TextEncoder();
  readonly #stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #responded = false;
  #closed = false;

  constructor(options: SseServerTransportOptions) {
    // A line break would end the SSE `data:` field and corrupt the event stream.
    if (/[\r\n]/.test(options.messagesPath)) throw new TypeError("messagesPath must not contain line breaks");
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    const separator = options.messagesPath.includes("?") ? "&" : "?";
    this.#endpoint = `${options.messagesPath}${separator}sessionId=${encodeURIComponent(this.sessionId)}`;
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
    this.#maxQueueBytes = options.maxQueueBytes ?? 16 * 1024 * 1024;
    this.#stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // The HTTP server cancels the body when the client disconnects.
        cancel: () => this.#finish(),
      },
      { highWaterMark: this.#maxQueueBytes, size: (chunk) => chunk.byteLength },
    );
  }

  /** Whether the session has ended (closed, client gone, or overflowed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The `text/event-stream` response for the client's GET. Call once per session. */
  response(): Response {
    if (this.#responded) throw new Error("SseServerTransport.response() can only be called once");
    this.#responded = true;
    return new Response(this.#stream, {
      status: 200,
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Writes the `endpoint` event and starts keep-alives. Called by `Server.connect()`. */
  async start(): Promise<void> {
    if (this.#started) throw new Error("SseServerTransport already started");
    if (this.#closed) throw new Error("SSE session is closed");
    this.#started = true;
    this.#write(`event: endpoint\ndata: ${this.#endpoint}\n\n`);
    if (this.#keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => this.#write(": ping\n\n"), this.#keepAliveMs);
      this.#keepAlive.unref?.();
    }
  }

  /** Sends one JSON-RPC message as an `event: message` frame. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.#started || this.#closed) throw new Error("Not connected");
    if (!this.#write(`event: message\ndata: ${JSON.stringify(message)}\n\n`)) {
      throw new Error("SSE client is not reading: session closed");
    }
  }

  /**
   * Handles a client POST: 202 once the message is delivered to `onmessage`, 400 with a JSON-RPC
   * error for bad JSON (-32700) or a non-message (-32600), 404 once the session has ended.
   * Pass `parsedBody` when a middleware has already read the body.
   */
  async handlePostMessage(request: Request, parsedBody?: unknown): Promise<Response> {
    if (!this.#started || this.#closed) return rpcError(404, SESSION_NOT_FOUND, "Session not found");
    let body = parsedBody;
    if (body === undefined) {
      try {
        body = JSON.parse(await request.text());
      } catch {
        return rpcError(400, JsonRpcCode.ParseError, "Parse error: invalid JSON");
      }
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(body);
    } catch {
      return rpcError(400, JsonRpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message");
    }
    // The session may have ended while the body was being read.
    if (this.#closed) return rpcError(404, SESSION_NOT_FOUND, "Session not found");
    this.onmessage?.(message, { request });
    return new Response("Accepted", { status: 202 });
  }

  /** Ends the stream after what is already queued and calls `onclose`. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#controller.close();
    this.#finish();
  }

  /** Queues one SSE frame; on overflow errors the stream, ends the session and returns `false`. */
  #write(frame: string): boolean {
    if (this.#closed) return false;
    const chunk = this.#encoder.encode(frame);
    const queued = this.#maxQueueBytes - (this.#controller.desiredSize ?? 0);
    // A single frame larger than the limit may still pass through an empty queue.
    if (queued > 0 && queued + chunk.byteLength > this.#maxQueueBytes) {
      const error = new Error(`SSE client is not reading: more than ${this.#maxQueueBytes} bytes queued`);
      this.#controller.error(error);
      this.#finish(error);
      return false;
    }
    this.#controller.enqueue(chunk);
    return true;
  }

  #finish(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    if (error) this.onerror?.(error);
    this.onclose?.();
  }
}

function rpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
