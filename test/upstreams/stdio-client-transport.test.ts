import { existsSync, readdirSync, readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/client";
import { createConsola, type LogObject } from "consola";
import { afterEach, describe, expect, it } from "vitest";
import { StdioClientTransport, type StdioClientTransportOptions } from "../../src/upstreams/stdio-client-transport.ts";
import { createGateway } from "../../src/index.ts";
import { connectV1, firstText, nextEvent, waitFor, within } from "../_helpers.ts";
import { bigText } from "../fixtures/common.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";

const open: StdioClientTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((transport) => transport.close()));
});

function transportFor(options: StdioClientTransportOptions): StdioClientTransport {
  const transport = new StdioClientTransport({ stderr: "pipe", ...options });
  open.push(transport);
  return transport;
}

/** A plain `node -e` child. */
function script(source: string): StdioClientTransportOptions {
  return { command: process.execPath, args: ["-e", source] };
}

/** The stdio fixture server, with `noise` written to stdout before each of its messages; `prelude` runs first. */
function noisyFixture(noise: string[], prelude = ""): StdioClientTransportOptions {
  const [importFlag, jiti, serverPath] = stdioServerCommand().args;
  const source = `${prelude}
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk, ...rest) => { for (const line of ${JSON.stringify(noise)}) write(line + "\\n"); return write(chunk, ...rest); };
    await import(${JSON.stringify(serverPath)});`;
  return { command: process.execPath, args: [importFlag!, jiti!, "--input-type=module", "-e", source] };
}

/** Negotiates like the gateway does (`auto`: the SDK probes the era on a disposable sibling child). */
async function connect(transport: StdioClientTransport): Promise<Client> {
  const client = new Client({ name: "stdio-transport-test", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(transport, { timeout: 15_000 });
  return client;
}

function countCloses(transport: StdioClientTransport): () => number {
  let count = 0;
  const chained = transport.onclose;
  transport.onclose = () => {
    count++;
    chained?.();
  };
  return () => count;
}

const procExists = (pid: number) => existsSync(`/proc/${pid}`);

/** Live (non-zombie) child processes of this process, from /proc. */
function liveChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ");
      if (Number(fields[1]) === process.pid && fields[0] !== "Z") pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

describe("StdioClientTransport", () => {
  it("carries an SDK Client's connect and tools/call to the fixture server and back", async () => {
    const transport = transportFor(stdioServerCommand({ name: "lean" }));
    const client = await connect(transport);
    expect(client.getServerVersion()?.name).toBe("lean");
    expect(firstText(await client.callTool({ name: "echo", arguments: { text: "héllo 漢 🙂" } }))).toBe("héllo 漢 🙂");
    expect(Number(firstText(await client.callTool({ name: "pid", arguments: {} })))).toBe(transport.pid);
    // The era probe ran on a sibling child, reaped before connect() resolved.
    expect(liveChildren()).toEqual([transport.pid]);
    await client.close();
    expect(liveChildren()).toEqual([]);
  });

  it("delivers a 5 MB result line of mixed multi-byte UTF-8 intact", async () => {
    const transport = transportFor(stdioServerCommand());
    const client = await connect(transport);
    const text = firstText(await client.callTool({ name: "big", arguments: { bytes: 5_000_000 } }));
    expect(Buffer.byteLength(text)).toBe(5_000_000);
    expect(text === bigText(5_000_000)).toBe(true);
    await client.close();
  });

  it("skips stdout lines that are not JSON-RPC, reports them truncated, and keeps the session working", async () => {
    const noise: string[] = [];
    const lines = ["Server v1.2 starting…", '{"jsonrpc":"1.0","note":"not 2.0"}', "[1,2,3]", "x".repeat(1000)];
    const transport = transportFor({ ...noisyFixture(lines), onNoise: (line) => noise.push(line) });
    const client = await connect(transport);
    for (let i = 0; i < 5; i++) expect(firstText(await client.callTool({ name: "echo", arguments: { text: `n${i}` } }))).toBe(`n${i}`);
    expect(noise.slice(0, 4)).toEqual([lines[0], lines[1], lines[2], `${"x".repeat(200)}…`]);
    expect(noise.length % 4).toBe(0);
    await client.close();
  });

  it("fires onclose exactly once when the child crashes, and rejects sends afterwards", async () => {
    const transport = transportFor(stdioServerCommand());
    const client = await connect(transport);
    const closes = countCloses(transport);
    const pid = transport.pid!;
    await expect(client.callTool({ name: "crash", arguments: {} })).rejects.toThrow();
    await waitFor(() => closes() === 1, 5000, "onclose after the crash");
    expect(transport.pid).toBeNull();
    expect(procExists(pid)).toBe(false);
    await expect(transport.send({ jsonrpc: "2.0", method: "notifications/initialized" })).rejects.toThrow(/Not connected/);
    await transport.close();
    await client.close();
    expect(closes()).toBe(1);
  });

  it("close() ends a child that exits when stdin ends, and onclose fires once before close() resolves", async () => {
    const transport = transportFor(stdioServerCommand());
    const client = await connect(transport);
    const closes = countCloses(transport);
    const pid = transport.pid!;
    expect(procExists(pid)).toBe(true);
    const started = Date.now();
    await transport.close();
    expect(closes()).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(procExists(pid)).toBe(false);
    await client.close();
    expect(closes()).toBe(1);
  });

  it("close() escalates to SIGKILL for a child that ignores stdin end and SIGTERM, leaving no process", async () => {
    let onNoise!: (line: string) => void;
    const ready = nextEvent<string>((resolve) => (onNoise = resolve), 5000, "the child to start");
    const stubborn = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); process.stdout.write('ready\\n')";
    const transport = transportFor({ ...script(stubborn), onNoise });
    await transport.start();
    expect(await ready).toBe("ready");
    const closes = countCloses(transport);
    const pid = transport.pid!;
    const started = Date.now();
    await within(transport.close(), 8000, "close() of a stubborn child");
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThanOrEqual(3900);
    expect(procExists(pid)).toBe(false);
    expect(closes()).toBe(1);
    console.info(`[measure] close() of a child ignoring SIGTERM: ${ms} ms`);
  });

  it("rejects start() for a missing command with a message naming it", async () => {
    const transport = transportFor({ command: "no-such-mcp-server-xyz" });
    await expect(transport.start()).rejects.toThrow('could not start stdio server "no-such-mcp-server-xyz": command not found (ENOENT)');
    expect(transport.pid).toBeNull();
  });

  it("completes a send far larger than the pipe buffer once the child reads it (backpressure)", async () => {
    const counter = `
      let bytes = 0;
      process.stdin.on("data", (chunk) => {
        const end = chunk.indexOf(10);
        if (end === -1) { bytes += chunk.length; return; }
        bytes += end;
        process.stdout.write(JSON.stringify({ jsonrpc: "2.0", method: "got", params: { bytes } }) + "\\n");
        bytes = chunk.length - end - 1;
      });`;
    const transport = transportFor(script(counter));
    const got = nextEvent<unknown>((resolve) => (transport.onmessage = resolve), 10_000, "the child's byte count");
    await transport.start();
    const message = { jsonrpc: "2.0" as const, method: "notifications/message", params: { level: "info", data: "é".repeat(4_000_000) } };
    await within(transport.send(message), 10_000, "a 8 MB send");
    expect(await got).toEqual({ jsonrpc: "2.0", method: "got", params: { bytes: Buffer.byteLength(JSON.stringify(message)) } });
  });

  it("rejects a send waiting for drain when the child exits without reading", async () => {
    const transport = transportFor(script("setTimeout(() => process.exit(0), 200)"));
    const closes = countCloses(transport);
    await transport.start();
    const sending = transport.send({ jsonrpc: "2.0", method: "notifications/message", params: { data: "x".repeat(4_000_000) } });
    await expect(within(sending, 5000, "the send to settle")).rejects.toThrow(/exited/);
    expect(closes()).toBe(1);
  });

  it("a gateway logs an upstream's stdout noise and stderr lines, and still serves its tools", async () => {
    const logs: LogObject[] = [];
    const log = createConsola({ level: 3, reporters: [{ log: (entry) => logs.push(entry) }] });
    const noisy = noisyFixture(["Server v1.2 starting…"], "console.error('upstream says hi on stderr');");
    const gw = await createGateway({ upstreams: { noisy: { type: "stdio", command: noisy.command, args: noisy.args! } } }, { log });
    try {
      const client = await connectV1(`${(await gw.listen({ port: 0 })).url}/mcp`);
      expect(firstText(await client.callTool({ name: "noisy__echo", arguments: { text: "still here" } }))).toBe("still here");
      await client.close();
      const text = (entry: LogObject) => entry.args.map(String).join(" ");
      expect(logs.some((e) => e.type === "warn" && text(e).includes("not JSON-RPC: Server v1.2 starting…"))).toBe(true);
      expect(logs.some((e) => e.type === "info" && text(e).includes("upstream says hi on stderr"))).toBe(true);
    } finally {
      await gw.close();
    }
  });
});
