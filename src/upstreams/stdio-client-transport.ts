import type { ChildProcess } from "node:child_process";
import spawn from "cross-spawn";
import { existsSync } from "node:fs";
import { PassThrough, type Readable } from "node:stream";
import { SdkError, SdkErrorCode, type JSONRPCMessage, type Transport } from "@modelcontextprotocol/client";
import { getDefaultEnvironment } from "@modelcontextprotocol/client/stdio";
import { splitLines } from "../_utils/line-splitter.ts";
import { settlesWithin } from "../_utils/timers.ts";

/** What to spawn, in the shape of the SDK's `StdioServerParameters`, plus the lean transport's own options. */
export interface StdioClientTransportOptions {
  command: string;
  args?: string[];
  /** Merged over `getDefaultEnvironment()`. */
  env?: Record<string, string>;
  cwd?: string;
  /** `"pipe"` exposes the child's stderr as {@link StdioClientTransport.stderr}. Default `"inherit"`. */
  stderr?: "pipe" | "ignore" | "inherit";
  /** Largest accepted stdout line in bytes; a longer one is dropped and reported to `onerror`. Default 64 MiB. */
  maxLineBytes?: number;
  /** A stdout line that is not a JSON-RPC message (a banner, a stray print), truncated to 200 characters. */
  onNoise?: (line: string) => void;
}

const CLOSE_STEP_MS = 2000;
const DISPOSE_STEP_MS = 1000;
const NOISE_CHARS = 200;

/**
 * Client side of MCP's stdio transport: spawns the server and speaks newline-delimited JSON-RPC on its stdin/stdout,
 * with one `JSON.parse` per line and no schema validation (the SDK's transport runs a zod parse per message).
 * Lines that are not JSON-RPC are handed to `onNoise` and skipped. Spawning, `stderr`, `pid` and the close sequence
 * (end stdin, wait 2 s, SIGTERM, wait 2 s, SIGKILL) match the SDK's `StdioClientTransport`.
 */
export class StdioClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /**
   * Read (with {@link _dispose}) by the SDK `Client`: in `auto` mode it probes the era on a disposable sibling spawned
   * from these parameters, so a server that exits on a pre-`initialize` request does not spend this child's life.
   * @internal
   */
  readonly _serverParams: StdioClientTransportOptions;
  readonly #stderr?: PassThrough;
  #child?: ChildProcess;
  #started = false;
  #closeNotified = false;
  #drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(options: StdioClientTransportOptions) {
    this._serverParams = options;
    // Exists before start() so early output of the child is not lost.
    if (options.stderr === "pipe") this.#stderr = new PassThrough();
  }

  /** The child's stderr when spawned with `stderr: "pipe"`, else null. */
  get stderr(): Readable | null {
    return this.#stderr ?? this.#child?.stderr ?? null;
  }

  /** The child's pid once started and until it is closed, else null. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  start(): Promise<void> {
    if (this.#started) return Promise.reject(new Error("StdioClientTransport already started"));
    this.#started = true;
    const params = this._serverParams;
    return new Promise((resolve, reject) => {
      // cross-spawn, as the SDK: on Windows it resolves `.cmd` shims such as `npx` (plain `spawn` elsewhere).
      const child = spawn(params.command, params.args ?? [], {
        env: { ...getDefaultEnvironment(), ...params.env },
        stdio: ["pipe", "pipe", params.stderr ?? "inherit"],
        shell: false,
        windowsHide: process.platform === "win32",
        cwd: params.cwd,
      });
      this.#child = child;
      let spawned = false;
      child.on("error", (error: NodeJS.ErrnoException) => {
        if (spawned) this.onerror?.(error);
        else reject(spawnError(params, error));
      });
      child.once("spawn", () => {
        spawned = true;
        resolve();
      });
      child.once("close", () => this.#closed(child));
      child.stdin!.on("error", (error) => {
        if (this.#child === child) this.onerror?.(error);
      });
      child.stdin!.on("drain", () => this.#settleWaiters());
      child.stdout!.on("error", (error) => this.onerror?.(error));
      const max = params.maxLineBytes ?? 64 * 1024 * 1024;
      splitLines(child.stdout!, max, {
        line: (line) => this.#receive(line),
        tooLong: (bytes) => this.onerror?.(new Error(`stdio upstream wrote a line over ${max} bytes (${bytes} so far): dropped`)),
      });
      if (this.#stderr) child.stderr!.pipe(this.#stderr);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || !stdin.writable) return Promise.reject(new SdkError(SdkErrorCode.NotConnected, "Not connected"));
    if (stdin.write(JSON.stringify(message) + "\n")) return Promise.resolve();
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  /** Let go of the child (no more sends) and end its stdin; `gone` settles when it exits. */
  #detach(): { child: ChildProcess; gone: Promise<void> } | undefined {
    const child = this.#child;
    if (!child) return undefined;
    this.#child = undefined;
    const gone = exited(child);
    try {
      child.stdin?.end();
    } catch {}
    return { child, gone };
  }

  async close(): Promise<void> {
    const detached = this.#detach();
    if (!detached) return;
    const { child, gone } = detached;
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if (await settlesWithin(gone, CLOSE_STEP_MS)) break;
      child.kill(signal);
    }
    await gone;
    // A grandchild may still hold the pipes open: let go of them so `close` (and `onclose`) follows the exit.
    destroyStdio(child);
    this.#closed(child);
  }

  /**
   * Reap a disposable probe sibling (the SDK calls this instead of close()): SIGTERM first, SIGKILL after 1 s,
   * awaiting the exit rather than the pipes.
   * @internal
   */
  async _dispose(): Promise<void> {
    const detached = this.#detach();
    if (!detached) return;
    const { child, gone } = detached;
    child.kill("SIGTERM");
    if (!(await settlesWithin(gone, DISPOSE_STEP_MS))) child.kill("SIGKILL");
    await gone;
    destroyStdio(child);
  }

  #receive(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#noise(line);
      return;
    }
    if (!isJsonRpcMessage(message)) {
      this.#noise(line);
      return;
    }
    try {
      this.onmessage?.(message);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #noise(line: string): void {
    this._serverParams.onNoise?.(line.length > NOISE_CHARS ? `${line.slice(0, NOISE_CHARS)}…` : line);
  }

  #settleWaiters(error?: Error): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const waiter of waiters) error ? waiter.reject(error) : waiter.resolve();
  }

  #closed(child: ChildProcess): void {
    if (this.#child === child) this.#child = undefined;
    this.#settleWaiters(new SdkError(SdkErrorCode.NotConnected, "stdio upstream exited"));
    if (this.#closeNotified) return;
    this.#closeNotified = true;
    this.onclose?.();
  }
}

/** An object with `jsonrpc: "2.0"` and a method or an id: enough to hand on; the protocol layer checks the rest. */
function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const message = value as { jsonrpc?: unknown; method?: unknown; id?: unknown };
  return message.jsonrpc === "2.0" && (typeof message.method === "string" || message.id !== undefined);
}

function spawnError(params: StdioClientTransportOptions, error: NodeJS.ErrnoException): Error {
  let reason = error.message;
  if (error.code === "ENOENT") {
    reason = params.cwd && !existsSync(params.cwd) ? `working directory "${params.cwd}" does not exist` : "command not found (ENOENT)";
  }
  return new Error(`could not start stdio server "${params.command}": ${reason}`, { cause: error });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function destroyStdio(child: ChildProcess): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}
