import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import { backoffDelay } from "../_utils/backoff.ts";
import type { Logger } from "../_utils/logger.ts";
import { splitLines } from "../_utils/line-splitter.ts";
import { sleep } from "../_utils/timers.ts";
import { startReconnectLoop, type ReconnectLoop } from "./reconnect-loop.ts";
import { errorReason, httpStatus, isConnectionLost, lossReason } from "./remote-transport.ts";
import { isReplayAnswer, listChangedNotifications, reinitialize, resubscribe, type BridgeMessage as Message } from "./remote-session.ts";

/** Options for {@link runStdioBridge}. */
export interface StdioBridgeOptions {
  /** A fresh, not yet started transport to the remote server (called again on reconnect). */
  connect: () => Transport;
  /** What the remote is, for messages (a URL; never includes credentials). */
  target: string;
  log: Pick<Logger, "info" | "warn" | "error" | "debug">;
  input?: Readable;
  output?: Writable;
  /**
   * Reconnect with backoff when the remote drops after the client's handshake, replaying the client's own
   * `initialize`; `maxAttempts` may be `Infinity`, 0 = exit. Default: exit when the remote drops.
   */
  reconnect?: { maxAttempts: number; initialMs?: number; maxMs?: number };
  /** Retries (same backoff) of the very first connection before its request gets an error. Default 0. */
  connectAttempts?: number;
  /** A request with no response (nor progress) for this long is answered with a timeout error and cancelled. 0 = none. */
  timeoutMs?: number;
  /** Largest accepted stdin line in bytes. Default 64 MiB. */
  maxLineBytes?: number;
  /** Bytes waiting for a stdout reader before the bridge gives up. Default 64 MiB. */
  maxOutputBytes?: number;
}

interface Pending {
  method: string;
  token?: unknown;
  timer?: NodeJS.Timeout;
  /** `resources/subscribe` / `resources/unsubscribe`: the URI, applied to the replay set once the remote agrees. */
  uri?: string;
}

/**
 * A raw JSON-RPC pump between newline-delimited stdio and one remote transport: every message goes through unchanged
 * (the transport adds what it needs: session headers, protocol version). Requests that can no longer be answered
 * (remote gone, timeout) get a JSON-RPC error. While reconnecting, a request triggers one immediate attempt and fails
 * if that fails too; once back, the client gets `list_changed` notifications. Resolves with an exit code when stdin
 * ends or the remote is lost for good.
 */
export function runStdioBridge(options: StdioBridgeOptions): { done: Promise<number>; close(): Promise<void> } {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const { log, target } = options;
  const reconnect = options.reconnect && options.reconnect.maxAttempts > 0 ? options.reconnect : undefined;
  const pending = new Map<string | number, Pending>();
  /** URIs the client is subscribed to, renewed after a reconnect (a new remote session knows none). */
  const subscribed = new Set<string>();
  const maxOutput = options.maxOutputBytes ?? 64 * 1024 * 1024;
  let initialize: Message | undefined;
  let initialized = false;
  let transport: Transport | undefined;
  let reconnecting: ReconnectLoop | undefined;
  let closing = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const lostMessage = `Remote connection lost, reconnecting to ${target}`;

  const write = (message: unknown) => {
    if (closing && output.writableEnded) return;
    if (output.writableLength > maxOutput) {
      log.error(`stdout reader is not keeping up (more than ${maxOutput} bytes queued): exiting`);
      void stop(1);
      return;
    }
    output.write(`${JSON.stringify(message)}\n`);
  };
  const fail = (id: string | number, code: number, message: string) => {
    const entry = pending.get(id);
    clearTimeout(entry?.timer);
    pending.delete(id);
    write({ jsonrpc: "2.0", id, error: { code, message } });
  };
  const arm = (id: string | number, entry: Pending) => {
    if (!options.timeoutMs) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      fail(id, JsonRpcCode.UpstreamError, `Request timed out after ${options.timeoutMs} ms (${entry.method})`);
      void transport?.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: "timeout" } }).catch(() => {});
    }, options.timeoutMs);
  };
  const backoff = (attempt: number) => backoffDelay(attempt, options.reconnect?.initialMs ?? 250, options.reconnect?.maxMs ?? 10_000);

  const onRemote = (message: Message) => {
    if (isReplayAnswer(message)) return;
    if (message.id !== undefined && message.id !== null && message.method === undefined) {
      const entry = pending.get(message.id);
      if (entry) {
        clearTimeout(entry.timer);
        pending.delete(message.id);
        const version = message.result?.protocolVersion;
        if (entry.method === "initialize" && typeof version === "string") transport?.setProtocolVersion?.(version);
        if (entry.uri !== undefined && message.result) {
          if (entry.method === "resources/subscribe") subscribed.add(entry.uri);
          else subscribed.delete(entry.uri);
        }
      }
    } else if (message.method === "notifications/progress") {
      for (const [id, entry] of pending) if (entry.token !== undefined && entry.token === message.params?.progressToken) arm(id, entry);
    }
    write(message);
  };

  /** A started transport; on a reconnect also re-initialized (resolves with the remote's capabilities then). */
  const open = async (): Promise<{ transport: Transport; capabilities?: Record<string, unknown> }> => {
    const next = options.connect();
    next.onmessage = (message) => onRemote(message as Message);
    next.onerror = (error) => {
      log.debug(`remote: ${error.message}`);
      if (isConnectionLost(error)) lost(next, lossReason(error));
    };
    next.onclose = () => lost(next, "connection closed");
    try {
      await next.start();
      const capabilities = initialize && initialized ? await reinitialize(next, initialize) : undefined;
      if (capabilities) await resubscribe(next, subscribed);
      return { transport: next, capabilities };
    } catch (error) {
      // E.g. an EventSource would otherwise keep retrying on its own.
      await next.close().catch(() => {});
      throw error;
    }
  };

  const adopt = (opened: { transport: Transport; capabilities?: Record<string, unknown> }) => {
    transport = opened.transport;
    if (opened.capabilities) for (const notification of listChangedNotifications(opened.capabilities)) write(notification);
  };

  const connectFirst = async (): Promise<Transport> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const opened = await open();
        adopt(opened);
        return opened.transport;
      } catch (error) {
        if (closing || attempt >= (options.connectAttempts ?? 0)) throw error;
        const delay = backoff(attempt);
        log.warn(`cannot reach ${target} (${errorReason(error)}); retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  };

  /** `from` stopped working: fail what waits on it (except `keep`), then reconnect or exit. */
  const lost = (from: Transport, reason: string, keep?: string | number) => {
    if (closing || transport !== from) return;
    transport = undefined;
    void from.close().catch(() => {});
    for (const id of [...pending.keys()]) if (id !== keep) fail(id, JsonRpcCode.UpstreamError, reconnect ? lostMessage : `Connection to ${target} lost`);
    if (!reconnect) {
      log.error(`connection to ${target} lost (${reason})`);
      void stop(1);
      return;
    }
    if (keep === undefined) startReconnect(reason);
  };

  const startReconnect = (reason: string) => {
    if (!reconnect || reconnecting || closing) return;
    log.warn(`connection to ${target} lost (${reason}); reconnecting`);
    reconnecting = startReconnectLoop(reason, {
      maxAttempts: reconnect.maxAttempts,
      delay: backoff,
      isClosing: () => closing,
      attempt: async () => {
        const opened = await open();
        if (closing) {
          void opened.transport.close().catch(() => {});
          throw new Error("bridge closing");
        }
        reconnecting = undefined;
        adopt(opened);
      },
      onSuccess: (attempt) => log.info(`reconnected to ${target} (attempt ${attempt})`),
      onFailure: (attempt, why) => log.warn(`reconnect attempt ${attempt} to ${target} failed: ${why}`),
      onGiveUp: () => {
        log.error(`giving up on ${target} after ${reconnect.maxAttempts} reconnect attempts`);
        void stop(1);
      },
    });
  };

  const send = (to: Transport, message: Message) => {
    const id = message.method !== undefined ? message.id : undefined;
    if (id === undefined || id === null) return to.send(message);
    // Streamable HTTP: a response stream that ends without the answer means the connection broke under it.
    return to.send(message, { onRequestStreamEnd: () => pending.has(id) && lost(to, "response stream ended without an answer") });
  };

  const undelivered = async (message: Message, from: Transport | undefined, error: unknown) => {
    if (closing) return;
    const id = message.method !== undefined && message.id !== null ? message.id : undefined;
    const status = httpStatus(error);
    if (reconnect && initialized && from && transport === from && (status === undefined || status === 404)) {
      if (status === undefined) return lost(from, errorReason(error));
      // The remote restarted and forgot the session: the message never ran, so re-initialize and send it again.
      log.warn(`${target} no longer knows the session (${errorReason(error)}); reconnecting`);
      lost(from, errorReason(error), id);
      try {
        adopt(await open());
      } catch (reopenError) {
        if (id !== undefined && pending.has(id)) fail(id, JsonRpcCode.UpstreamError, lostMessage);
        return startReconnect(errorReason(reopenError));
      }
      try {
        return await send(transport!, message);
      } catch (retryError) {
        error = retryError;
      }
    }
    log.warn(`cannot forward ${message.method ?? "a response"} to ${target}: ${errorReason(error)}`);
    if (id !== undefined && pending.has(id)) fail(id, JsonRpcCode.UpstreamError, `Cannot reach ${target}: ${errorReason(error)}`);
  };

  const onLine = async (line: string) => {
    let message: Message;
    try {
      message = JSON.parse(line) as Message;
    } catch {
      log.warn("stdin: ignoring a line that is not JSON");
      write({ jsonrpc: "2.0", id: null, error: { code: JsonRpcCode.ParseError, message: "Parse error: line is not valid JSON" } });
      return;
    }
    const isRequest = message.id !== undefined && message.id !== null && message.method !== undefined;
    if (isRequest) {
      const token = (message.params?._meta as Record<string, unknown> | undefined)?.progressToken;
      const entry: Pending = { method: message.method!, token };
      if ((message.method === "resources/subscribe" || message.method === "resources/unsubscribe") && typeof message.params?.uri === "string") entry.uri = message.params.uri;
      pending.set(message.id!, entry);
      arm(message.id!, entry);
      if (message.method === "initialize") initialize = message;
    } else if (message.method === "notifications/initialized") initialized = true;
    else if (message.method === "notifications/cancelled") {
      const entry = pending.get(message.params?.requestId as string | number);
      if (entry) {
        clearTimeout(entry.timer);
        pending.delete(message.params?.requestId as string | number);
      }
    }
    const waiting = reconnecting;
    if (waiting) {
      if (!(await waiting.attemptNow())) {
        if (isRequest && pending.has(message.id!)) fail(message.id!, JsonRpcCode.UpstreamError, `${lostMessage} (${waiting.reason})`);
        else log.debug(`dropped ${message.method ?? "a response"}: reconnecting to ${target}`);
        return;
      }
      // Timed out or cancelled while it waited.
      if (isRequest && !pending.has(message.id!)) return;
    }
    let current = transport;
    try {
      current ??= await connectFirst();
      await send(current, message);
    } catch (error) {
      await undelivered(message, current, error);
    }
  };

  const stop = async (code: number) => {
    if (closing) return;
    closing = true;
    for (const entry of pending.values()) clearTimeout(entry.timer);
    input.pause();
    const current = transport;
    transport = undefined;
    const terminate = (current as { terminateSession?: () => Promise<void> } | undefined)?.terminateSession;
    await terminate?.call(current).catch(() => {});
    await current?.close().catch(() => {});
    finish(code);
  };

  // Sequential: a message is handed to the transport before the next line is read, so order is kept.
  let chain = Promise.resolve();
  splitLines(input, options.maxLineBytes ?? 64 * 1024 * 1024, {
    line: (line) => {
      chain = chain.then(() => onLine(line));
    },
    tooLong: (bytes) => log.warn(`stdin: dropped a line of more than ${bytes} bytes`),
    end: () => void chain.then(() => stop(0)),
  });
  return { done, close: () => stop(0) };
}
