import type { Readable, Writable } from "node:stream";
import type { JSONRPCMessage, Transport } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import { backoffDelay } from "../_utils/backoff.ts";
import type { Logger } from "../_utils/logger.ts";
import { splitLines } from "./line-splitter.ts";

type Message = JSONRPCMessage & { id?: string | number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> };

/** Options for {@link runStdioBridge}. */
export interface StdioBridgeOptions {
  /** A fresh, not yet started transport to the remote server (called again on reconnect). */
  connect: () => Transport;
  /** What the remote is, for messages (a URL; never includes credentials). */
  target: string;
  log: Pick<Logger, "info" | "warn" | "error" | "debug">;
  input?: Readable;
  output?: Writable;
  /** Reconnect with backoff when the remote drops (re-initializing with the client's own `initialize`). Default: exit. */
  reconnect?: { maxAttempts: number; initialMs?: number; maxMs?: number };
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
}

/**
 * A raw JSON-RPC pump between newline-delimited stdio and one remote transport: every message goes through unchanged
 * (the transport adds what it needs: session headers, protocol version). Requests that can no longer be answered
 * (remote gone, timeout) get a JSON-RPC error. Resolves with an exit code when stdin ends or the remote is lost for good.
 */
export function runStdioBridge(options: StdioBridgeOptions): { done: Promise<number>; close(): Promise<void> } {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const { log } = options;
  const pending = new Map<string | number, Pending>();
  const maxOutput = options.maxOutputBytes ?? 64 * 1024 * 1024;
  let initialize: Message | undefined;
  let initialized = false;
  let transport: Transport | undefined;
  let ready: Promise<Transport> | undefined;
  let closing = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

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

  const onRemote = (message: Message) => {
    if (typeof message.id === "string" && message.id.startsWith(REINIT_PREFIX)) return;
    if (message.id !== undefined && message.method === undefined) {
      const entry = pending.get(message.id);
      if (entry) {
        clearTimeout(entry.timer);
        pending.delete(message.id);
        const version = message.result?.protocolVersion;
        if (entry.method === "initialize" && typeof version === "string") transport?.setProtocolVersion?.(version);
      }
    } else if (message.method === "notifications/progress") {
      for (const [id, entry] of pending) if (entry.token !== undefined && entry.token === message.params?.progressToken) arm(id, entry);
    }
    write(message);
  };

  const open = async (): Promise<Transport> => {
    const next = options.connect();
    next.onmessage = (message) => onRemote(message as Message);
    next.onerror = (error) => log.debug(`remote: ${error.message}`);
    next.onclose = () => {
      if (transport === next) void lost();
    };
    await next.start();
    if (initialize && initialized) await reinitialize(next, initialize);
    transport = next;
    return next;
  };

  const connect = async (): Promise<Transport> => {
    const attempts = options.reconnect?.maxAttempts ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await open();
      } catch (error) {
        if (closing || attempt >= attempts) throw error;
        const delay = backoffDelay(attempt, options.reconnect?.initialMs ?? 250, options.reconnect?.maxMs ?? 10_000);
        log.warn(`cannot reach ${options.target} (${(error as Error).message}); retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };

  const lost = async () => {
    transport = undefined;
    ready = undefined;
    if (closing) return;
    for (const id of [...pending.keys()]) fail(id, JsonRpcCode.UpstreamError, `Connection to ${options.target} lost`);
    if (!options.reconnect) {
      log.error(`connection to ${options.target} closed`);
      await stop(1);
      return;
    }
    log.warn(`connection to ${options.target} lost; reconnecting`);
    ready = connect();
    ready.catch((error: Error) => {
      log.error(`giving up on ${options.target}: ${error.message}`);
      void stop(1);
    });
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
    if (message.id !== undefined && message.method !== undefined) {
      const token = (message.params?._meta as Record<string, unknown> | undefined)?.progressToken;
      const entry: Pending = { method: message.method, token };
      pending.set(message.id, entry);
      arm(message.id, entry);
      if (message.method === "initialize") initialize = message;
    } else if (message.method === "notifications/initialized") initialized = true;
    else if (message.method === "notifications/cancelled") {
      const entry = pending.get(message.params?.requestId as string | number);
      if (entry) {
        clearTimeout(entry.timer);
        pending.delete(message.params?.requestId as string | number);
      }
    }
    try {
      try {
        ready ??= connect();
        await (await ready).send(message);
      } catch (error) {
        // E.g. the remote restarted and forgot our session (404): reconnect once, then retry this message.
        if (!options.reconnect || closing) throw error;
        log.warn(`${options.target}: ${(error as Error).message}; reconnecting`);
        const stale = transport;
        transport = undefined;
        ready = connect();
        void stale?.close().catch(() => {});
        await (await ready).send(message);
      }
    } catch (error) {
      // Not connected: the next message tries again instead of reusing this failure.
      if (!transport) ready = undefined;
      log.warn(`cannot forward ${message.method ?? "a response"} to ${options.target}: ${(error as Error).message}`);
      if (message.id !== undefined && message.method !== undefined && pending.has(message.id)) {
        fail(message.id, JsonRpcCode.UpstreamError, `Cannot reach ${options.target}: ${firstLine(error)}`);
      }
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

const REINIT_PREFIX = "mcp-gateway-bridge-reinit-";

/** Replays the client's `initialize` on a fresh connection (its answer is not forwarded: the client already has one). */
async function reinitialize(transport: Transport, initialize: Message): Promise<void> {
  const id = `${REINIT_PREFIX}${Date.now()}`;
  const answered = new Promise<Message>((resolve, reject) => {
    const forward = transport.onmessage;
    const timer = setTimeout(() => reject(new Error("no answer to initialize")), 10_000);
    transport.onmessage = (message, extra) => {
      if ((message as Message).id === id) {
        clearTimeout(timer);
        transport.onmessage = forward;
        resolve(message as Message);
      } else forward?.(message, extra);
    };
  });
  await transport.send({ ...initialize, id } as JSONRPCMessage);
  const answer = await answered;
  const version = answer.result?.protocolVersion;
  if (typeof version === "string") transport.setProtocolVersion?.(version);
  await transport.send({ jsonrpc: "2.0", method: "notifications/initialized" });
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0]!.slice(0, 200);
}
