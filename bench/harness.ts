/**
 * Shared pieces of the benchmark scripts: child processes (fixture upstreams, the gateway), MCP callers and
 * CPU accounting. Everything listens on 127.0.0.1; nothing here is imported by the gateway itself.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1StdioTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { stdioServerCommand } from "../test/fixtures/servers.ts";

export const root = new URL("..", import.meta.url).pathname;

/** One MCP client session that repeats the same call. */
export interface Caller {
  call(): Promise<unknown>;
  close(): Promise<void>;
}
export type CallerFactory = () => Promise<Caller>;

const echo = { name: "echo", arguments: { text: "bench" } };

/** SDK v1 client over streamable HTTP (2025-era session). */
export function v1Http(url: string, tool = "echo"): CallerFactory {
  return async () => {
    const client = new V1Client({ name: "bench", version: "1" });
    await client.connect(new V1HttpTransport(new URL(url)));
    return { call: () => client.callTool({ ...echo, name: tool }), close: () => client.close() };
  };
}

/** SDK v2 client over streamable HTTP, negotiating 2026-07-28 where offered. */
export function v2Http(url: string, tool = "echo"): CallerFactory {
  return async () => {
    const client = new Client({ name: "bench", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return { call: () => client.callTool({ ...echo, name: tool }), close: () => client.close() };
  };
}

/** SDK v1 client talking to the stdio fixture directly. */
export function v1Stdio(): CallerFactory {
  return async () => {
    const { command, args } = stdioServerCommand({ name: "bench" });
    const client = new V1Client({ name: "bench", version: "1" });
    await client.connect(new V1StdioTransport({ command, args, stderr: "ignore" }));
    return { call: () => client.callTool(echo), close: () => client.close() };
  };
}

/** Start a child that prints a line matching `pattern`; resolve with the match. */
export function startChild(command: string, args: string[], pattern: RegExp, stream: "stdout" | "stderr"): Promise<{ child: ChildProcess; match: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let buffer = "";
    let started = false;
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${pattern} from ${args.join(" ")}:\n${buffer}`)), 30_000);
    child[stream]!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = pattern.exec(buffer);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve({ child, match: m[1]! });
      }
    });
    child.once("exit", (code, signal) => {
      const error = new Error(`${args.join(" ")} exited with ${code ?? signal}:\n${buffer.slice(-4000)}`);
      // After the match, only the benchmark's own SIGTERM may end it: a child dying mid-run must not go unnoticed.
      if (started && code !== 0 && code !== 143 && signal !== "SIGTERM") console.error(`benchmark child died: ${error.message}`);
      reject(error);
    });
  });
}

/** A fixture upstream in its own process (`legacy` = SDK v1 sessions, `modern` = SDK v2 2026-07-28). */
export function startUpstream(kind: "legacy" | "modern"): Promise<{ child: ChildProcess; match: string }> {
  return startChild(process.execPath, ["--import", "jiti/register", "bench/upstream.ts", kind], /(http:\/\/\S+)\n/, "stdout");
}

/** Resident set size of a process, in MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** User + system CPU time a process has used so far, in ms (Linux `/proc/<pid>/stat`, 100 ticks/s). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A gateway child serving one upstream (unprefixed), started from a temporary config file. */
export async function startGateway(upstream: Record<string, unknown>, nodeFlags: string[] = []): Promise<{ child: ChildProcess; url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const file = join(dir, "gateway.config.mjs");
  writeFileSync(file, `export default ${JSON.stringify({ log: { level: "warn" }, upstreams: { up: { ...upstream, prefix: false } } })};\n`);
  const { child, match } = await startChild(process.execPath, [...nodeFlags, "bin/gateway.mjs", "start", "--config", file, "--port", "0"], /MCP gateway on (http:\/\/[0-9.:]+)/, "stderr");
  return {
    child,
    url: match,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
