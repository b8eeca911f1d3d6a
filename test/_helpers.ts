/**
 * Helpers shared by the test files: bounded waits, reading tool results, process and port probes,
 * and SDK clients connected to a gateway. Every wait here ends: on success or after its timeout.
 */
import { connect as netConnect } from "node:net";
import { Client as ClientV2, StreamableHTTPClientTransport as StreamableHTTPClientTransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const POLL_MS = 10;

/** Rejects when `promise` has not settled within `ms`; `what` names it in the error. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Poll `predicate` every 10 ms until it returns true; reject after `timeoutMs` (also if one call of it hangs). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await within(Promise.resolve().then(predicate), timeoutMs, what)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The first value `register` passes to its callback (e.g. from a notification handler); rejects after `ms`. */
export function nextEvent<T>(register: (resolve: (value: T) => void) => void, ms = 5000, what = "an event"): Promise<T> {
  return within(new Promise<T>(register), ms, what);
}

/** The text of the first content block of a tool result (SDK v1 or v2); throws when that block is not text. */
export function firstText(result: unknown): string {
  const first = (result as { content?: { type: string; text?: string }[] }).content?.[0];
  if (first?.type !== "text" || first.text === undefined) throw new Error(`expected text content, got ${JSON.stringify(result)}`);
  return first.text;
}

/** Resolves true when nothing listens on the URL's port any more (connection refused). */
export function portIsFree(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const probe = new Promise<boolean>((resolve) => {
    const socket = netConnect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
  return within(probe, 2000, `a connection attempt to ${url}`);
}

/** Whether a process with this pid exists (a zombie counts until it is reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** An SDK v1 client connected over streamable HTTP (2025-11-25, with a session). */
export async function connectV1(url: string, name = "test-v1"): Promise<ClientV1> {
  const client = new ClientV1({ name, version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** An SDK v1 client connected over legacy HTTP+SSE; `url` is the SSE endpoint. */
export async function connectSse(url: string, name = "test-sse"): Promise<ClientV1> {
  const client = new ClientV1({ name, version: "1" });
  await client.connect(new SSEClientTransport(new URL(url)));
  return client;
}

/** An SDK v2 client with automatic version negotiation (stateless 2026-07-28 against the gateway). */
export async function connectV2(url: string, name = "test-v2"): Promise<ClientV2> {
  const client = new ClientV2({ name, version: "1" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(new StreamableHTTPClientTransportV2(new URL(url)));
  return client;
}

/** End a v1 client's streamable HTTP session (DELETE) and close it; never throws. */
export async function endSession(client: ClientV1): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});
}
