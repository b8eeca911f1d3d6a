/**
 * Failure is local: a crashed, absent or slow upstream affects only the requests sent to it, the
 * supervisor brings it back, and neither the gateway nor its CLI leaves a process behind.
 * Real upstreams (child processes, HTTP servers on 127.0.0.1:0), real SDK v1 clients over real HTTP.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import type { GatewayConfig } from "../../src/config/types.ts";
import { createGateway, type Gateway } from "../../src/runtime/gateway.ts";
import { createLogger } from "../../src/_utils/logger.ts";
import { connectV1, endSession, firstText, isAlive, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, stdioServerCommand, type LegacyHttpServer } from "../fixtures/servers.ts";

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/** How long `promise` takes to settle, and how. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

interface ProcEntry {
  pid: number;
  ppid: number;
  state: string;
}

/** Every process visible in /proc (Linux only): pid, parent pid and state letter (`Z` = zombie). */
function processTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we were reading
    }
    // "pid (comm) state ppid ..." where comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    entries.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]) });
  }
  return entries;
}

function childrenOf(pid: number): ProcEntry[] {
  return processTable().filter((p) => p.ppid === pid);
}

/** The whole process tree below `pid` (children, grandchildren, ...). */
function descendantsOf(pid: number): ProcEntry[] {
  const table = processTable();
  const found: ProcEntry[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const entry of table) {
      if (entry.ppid !== parent) continue;
      found.push(entry);
      queue.push(entry.pid);
    }
  }
  return found;
}

/** A free port on 127.0.0.1: bound, then released, so nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP forwarder on `port` to `target`; `null` when the port was taken in the meantime. */
async function forward(port: number, target: URL): Promise<{ close(): Promise<void> } | null> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
      s.on("error", () => {
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!listening) return null;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const quiet = createLogger("silent");
/** Restart fast in tests; the default backoff starts at 250 ms. */
const FAST_RESTART = { initialDelayMs: 20, maxDelayMs: 200 };

// ---------------------------------------------------------------------------
// an upstream dies mid-call
// ---------------------------------------------------------------------------

describe("an upstream killed mid-call", () => {
  let other: LegacyHttpServer;
  let gw: Gateway;
  let url: string;
  const open: Client[] = [];

  beforeAll(async () => {
    other = await startLegacyHttpServer({ name: "other" });
    gw = await createGateway(
      {
        upstreams: {
          io: { type: "stdio", ...stdioServerCommand({ name: "io" }), restart: FAST_RESTART },
          other: { type: "streamable-http", url: other.url },
        },
      },
      { log: quiet },
    );
    url = `${(await gw.listen({ port: 0 })).url}/mcp`;
  });

  afterAll(async () => {
    await Promise.all(open.map(endSession));
    await gw?.close();
    await other?.close();
  });

  it.each([
    ["another client calls the `crash` tool", "crash"],
    ["the child gets SIGKILL", "sigkill"],
  ] as const)("fails the in-flight call within 5 s when %s, keeps other upstreams answering and restarts it", async (_, how) => {
    const [a, b] = await Promise.all([connectV1(url, "resilience-test"), connectV1(url, "resilience-test")]);
    open.push(a, b);
    const restartsBefore = gw.health().upstreams.io!.restarts;
    const pid = Number(firstText(await a.callTool({ name: "io__pid", arguments: {} })));
    expect(isAlive(pid)).toBe(true);

    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    const slow = timed(a.callTool({ name: "io__slow", arguments: { steps: 100, ms: 100 } }, undefined, { onprogress: () => running() }));
    await started;
    const killedAt = Date.now();
    if (how === "crash") {
      await expect(b.callTool({ name: "io__crash", arguments: {} })).rejects.toBeInstanceOf(McpError);
    } else {
      process.kill(pid, "SIGKILL");
    }
    const outcome = await slow;
    const failedAfter = Date.now() - killedAt;
    expect(outcome.error).toBeInstanceOf(McpError);
    expect((outcome.error as McpError).message).toMatch(/Upstream "io" failed on tools\/call/);
    expect(failedAfter).toBeLessThan(5000);

    // Failure is local: the other upstream answers while io restarts.
    expect(firstText(await b.callTool({ name: "other__echo", arguments: { text: "still here" } }))).toBe("still here");

    await waitFor(
      () => {
        const io = gw.health().upstreams.io!;
        return io.state === "connected" && io.restarts > restartsBefore && io.tools > 0;
      },
      10_000,
      "io to be restarted and listed again",
    );
    const recoveredAfter = Date.now() - killedAt;
    const newPid = Number(firstText(await a.callTool({ name: "io__pid", arguments: {} })));
    expect(newPid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    // The dead child was reaped and the version probe of the restart is gone: io's one child is all that is left.
    expect(childrenOf(process.pid).map((p) => `${p.pid}:${p.state === "Z" ? "zombie" : "live"}`)).toEqual([`${newPid}:live`]);
    expect(firstText(await b.callTool({ name: "io__echo", arguments: { text: "back" } }))).toBe("back");
    expect(gw.health().upstreams.io!.restarts).toBeGreaterThanOrEqual(1);
    console.info(`[measure] ${how}: in-flight call failed after ${failedAfter} ms, upstream back after ${recoveredAfter} ms`);
  });
});

// ---------------------------------------------------------------------------
// an upstream that is down at start
// ---------------------------------------------------------------------------

describe("an upstream that is down at start", () => {
  let up: LegacyHttpServer;
  let late: LegacyHttpServer;
  let gw: Gateway;
  let base: string;
  let downPort: number;
  let forwarder: { close(): Promise<void> } | null = null;
  const open: Client[] = [];

  beforeAll(async () => {
    [up, late] = await Promise.all([startLegacyHttpServer({ name: "up" }), startLegacyHttpServer({ name: "late" })]);
    downPort = await closedPort();
    const config: GatewayConfig = {
      upstreams: {
        down: { type: "streamable-http", url: `http://127.0.0.1:${downPort}/mcp`, restart: { initialDelayMs: 50, maxDelayMs: 100 } },
        gone: { type: "streamable-http", url: `http://127.0.0.1:${await closedPort()}/mcp`, restart: { maxRetries: 0 } },
        up: { type: "streamable-http", url: up.url },
      },
    };
    const started = Date.now();
    gw = await createGateway(config, { log: quiet });
    console.info(`[measure] createGateway with two unreachable upstreams: ${Date.now() - started} ms`);
    base = (await gw.listen({ port: 0 })).url;
  });

  afterAll(async () => {
    await Promise.all(open.map(endSession));
    await gw?.close();
    await forwarder?.close();
    await Promise.all([up?.close(), late?.close()]);
  });

  it("starts without it, reports it in /health, fails calls to its names fast and serves the rest", async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as ReturnType<Gateway["health"]>;
    expect(health.status).toBe("degraded");
    expect(health.upstreams.down).toMatchObject({ state: "restarting", tools: 0 });
    expect(health.upstreams.down!.lastError).toBeTruthy();
    expect(health.upstreams.gone).toMatchObject({ state: "failed", tools: 0 });
    expect(health.upstreams.up).toMatchObject({ state: "connected" });

    const client = await connectV1(`${base}/mcp`, "resilience-test");
    open.push(client);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("up__echo");
    expect(names.filter((n) => n.startsWith("down__") || n.startsWith("gone__"))).toEqual([]);

    const call = await timed(client.callTool({ name: "down__echo", arguments: { text: "x" } }));
    expect(call.error).toBeInstanceOf(McpError);
    expect(call.ms).toBeLessThan(1000);
    expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "fine" } }))).toBe("fine");
  });

  it("picks the upstream up once a server appears on its port", async (ctx) => {
    forwarder = await forward(downPort, new URL(late.url));
    // Another process may have taken the released port; then this half cannot be tested reliably.
    if (!forwarder) ctx.skip();
    await waitFor(() => gw.health().upstreams.down?.state === "connected" && gw.health().upstreams.down!.tools > 0, 5000, "down to connect");
    const client = await connectV1(`${base}/mcp`, "resilience-test");
    open.push(client);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("down__echo");
    expect(firstText(await client.callTool({ name: "down__whoami", arguments: {} }))).toBe("late");
    expect(gw.health().upstreams.gone!.state).toBe("failed");
  });
});

// ---------------------------------------------------------------------------
// per-call timeout
// ---------------------------------------------------------------------------

describe("per-call timeout", () => {
  let upstream: LegacyHttpServer;
  let gw: Gateway;
  let client: Client;

  beforeAll(async () => {
    upstream = await startLegacyHttpServer({ name: "slowpoke" });
    gw = await createGateway({ upstreams: { s: { type: "streamable-http", url: upstream.url, timeout: 500 } } }, { log: quiet });
    client = await connectV1(`${(await gw.listen({ port: 0 })).url}/mcp`, "resilience-test");
  });

  afterAll(async () => {
    if (client) await endSession(client);
    await gw?.close();
    await upstream?.close();
  });

  it("answers a call that outlives the upstream timeout (500 ms) with a JSON-RPC error and cancels it upstream", async () => {
    const cancelledBefore = upstream.cancelled;
    const call = await timed(client.callTool({ name: "s__slow", arguments: { steps: 10, ms: 200 } }));
    expect(call.error).toBeInstanceOf(McpError);
    expect((call.error as McpError).message).toMatch(/did not answer tools\/call within 500 ms/);
    expect(call.ms).toBeGreaterThanOrEqual(450);
    expect(call.ms).toBeLessThan(1500);
    await waitFor(() => upstream.cancelled > cancelledBefore, 2000, "the upstream to observe the cancellation");
    // The upstream connection is still usable afterwards.
    expect(firstText(await client.callTool({ name: "s__echo", arguments: { text: "ok" } }))).toBe("ok");
    expect(gw.health().upstreams.s!.state).toBe("connected");
    console.info(`[measure] timeout 500 ms: client got the error after ${call.ms} ms`);
  });
});

// ---------------------------------------------------------------------------
// no process left behind
// ---------------------------------------------------------------------------

describe("process hygiene", () => {
  const spawned: ChildProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gateway-resilience-"));
  });

  afterEach(() => {
    // Only if a test failed half-way: never leave a CLI or its children running.
    for (const child of spawned.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      for (const d of descendantsOf(child.pid)) {
        try {
          process.kill(d.pid, "SIGKILL");
        } catch {}
      }
      child.kill("SIGKILL");
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("closing a gateway with two stdio upstreams leaves no child process and no zombie", async () => {
    const before = childrenOf(process.pid);
    const gw = await createGateway(
      {
        upstreams: {
          one: { type: "stdio", ...stdioServerCommand({ name: "one" }) },
          two: { type: "stdio", ...stdioServerCommand({ name: "two" }) },
        },
      },
      { log: quiet },
    );
    const during = childrenOf(process.pid).filter((p) => !before.some((b) => b.pid === p.pid));
    expect(gw.health().upstreams.one!.state).toBe("connected");
    expect(gw.health().upstreams.two!.state).toBe("connected");
    expect(during.filter((p) => p.state !== "Z")).toHaveLength(2);
    const closing = await timed(gw.close());
    const after = childrenOf(process.pid);
    expect(after.filter((p) => p.state === "Z")).toEqual([]);
    expect(after.map((p) => p.pid).sort()).toEqual(before.map((p) => p.pid).sort());
    for (const child of during) expect(isAlive(child.pid)).toBe(false);
    console.info(`[measure] gateway.close() with 2 stdio upstreams: ${closing.ms} ms`);
  });

  it("a per-session stdio upstream ends each session's child with its session, and close() leaves none", async () => {
    const before = childrenOf(process.pid);
    const fresh = () => childrenOf(process.pid).filter((p) => p.state !== "Z" && !before.some((b) => b.pid === p.pid));
    const gw = await createGateway(
      { upstreams: { iso: { type: "stdio", ...stdioServerCommand({ name: "iso" }), isolation: "per-session" } } },
      { log: quiet },
    );
    try {
      const url = `${(await gw.listen({ port: 0 })).url}/mcp`;
      const [a, b] = await Promise.all([connectV1(url, "resilience-test"), connectV1(url, "resilience-test")]);
      const pidA = Number(firstText(await a.callTool({ name: "iso__pid", arguments: {} })));
      const pidB = Number(firstText(await b.callTool({ name: "iso__pid", arguments: {} })));
      expect(pidA).not.toBe(pidB);
      // One discovery connection plus one child per session.
      expect(fresh()).toHaveLength(3);
      await endSession(a);
      await waitFor(() => !isAlive(pidA), 5000, "session A's child to exit after its session ended");
      expect(isAlive(pidB)).toBe(true);
      const closing = await timed(gw.close());
      const after = childrenOf(process.pid);
      expect(after.filter((p) => p.state === "Z")).toEqual([]);
      expect(after.map((p) => p.pid).sort()).toEqual(before.map((p) => p.pid).sort());
      expect(isAlive(pidB)).toBe(false);
      await endSession(b);
      console.info(`[measure] gateway.close() with a per-session stdio upstream and one live session: ${closing.ms} ms`);
    } finally {
      await gw.close();
    }
  });

  const CLI = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));

  it.each(["SIGTERM", "SIGINT"] as const)("the CLI exits within 5 s on %s and takes every descendant with it", async (signal) => {
    const config = join(dir, `gateway.${signal}.config.mjs`);
    const upstream = stdioServerCommand();
    await writeFile(
      config,
      `export default ${JSON.stringify({
        log: { level: "info" },
        upstreams: {
          one: { type: "stdio", command: upstream.command, args: [...upstream.args, "--name=one"] },
          two: { type: "stdio", command: upstream.command, args: [...upstream.args, "--name=two"] },
        },
      })};\n`,
    );
    const child = spawn(process.execPath, [CLI, "start", "--config", config, "--port", "0"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    spawned.push(child);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, sig) => resolve({ code, signal: sig })),
    );

    await waitFor(() => /MCP gateway on http:\/\/127\.0\.0\.1:\d+\/mcp/.test(output) || child.exitCode !== null, 20_000, `the CLI to print its URL (output so far: ${output})`);
    const url = /MCP gateway on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output)?.[1];
    expect(url, output).toBeTruthy();
    const health = (await (await fetch(url!.replace(/\/mcp$/, "/health"))).json()) as ReturnType<Gateway["health"]>;
    expect(health.status).toBe("ok");

    const tree = descendantsOf(child.pid!);
    expect(tree.length).toBeGreaterThanOrEqual(2);
    const signalledAt = Date.now();
    child.kill(signal);
    const exit = await Promise.race([
      exited,
      new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 5000).unref()),
    ]);
    const exitMs = Date.now() - signalledAt;
    expect(exit, output).not.toBe("hung");
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tree.filter((p) => isAlive(p.pid))).toEqual([]);
    console.info(`[measure] CLI ${signal}: exited ${exitMs} ms after the signal; ${tree.length} descendants, all gone`);
  });
});
