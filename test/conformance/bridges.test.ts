/**
 * One scenario list run over every bridge pair of `gateway translate`:
 * stdio→SSE, stdio→streamable HTTP, stdio→WS (a real `translate --stdio` process in front of the stdio fixture), and
 * streamable HTTP→stdio, SSE→stdio, WS→stdio (a real `translate --connect*` process spawned by an SDK stdio client).
 * Every pair must carry every message type both ways: list, call, progress, cancel, sampling, elicitation,
 * notifications, errors, ≥ 5 MB payloads, non-ASCII text; and leave no process behind.
 * Then a 2026-07-28 client (SDK v2, pinned) over the pairs that carry that era (streamable HTTP and WS, both ways):
 * the bridge keeps it in its era, and sampling and elicitation arrive as `input_required` its handlers fulfil.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client as ClientV2, type Transport as TransportV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { HttpClientTransport } from "../../src/upstreams/http-client-transport.ts";
import { WsClientTransport } from "../../src/upstreams/ws-client-transport.ts";
import { firstText, isAlive, nextEvent, waitFor, within } from "../_helpers.ts";
import {
  README_URI,
  bigText,
  startLegacyHttpServer,
  startLegacySseServer,
  stdioServerCommand,
  triggerStdioNotifications,
  type LegacyHttpServer,
  type LegacySseServer,
} from "../fixtures/servers.ts";

const bin = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
const NON_ASCII = "héllo wörld — 漢字かな 🙂🚀 “quotes” \u2028 tab\there";
const FIVE_MB = 5 * 1024 * 1024;

interface Pair {
  name: string;
  connect(): Promise<Client>;
  /** How many `slow` calls the upstream saw cancelled. */
  cancelled(client: Client): Promise<number>;
  /** Make the upstream send notifications/resources/updated for subscribed URIs. */
  notify(client: Client): Promise<void>;
}

/** A client that answers sampling and elicitation requests, as a desktop client would. */
async function connectClient(transport: Transport): Promise<Client> {
  const client = new Client({ name: "bridge-conformance", version: "1" }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    const text = first && !Array.isArray(first) && first.type === "text" ? first.text : "?";
    return { role: "assistant", model: "test", content: { type: "text", text: `model says ${text}` } };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: { answer: "42 ✓" } }));
  await within(client.connect(transport), 20_000, "the client to connect");
  return client;
}

const statsOf = async (client: Client) => JSON.parse(firstText(await client.callTool({ name: "stats", arguments: {} }))) as { cancelled: number };
const viaPid = async (client: Client) => triggerStdioNotifications(Number(firstText(await client.callTool({ name: "pid", arguments: {} }))));

let translate: ChildProcess;
let translateUrl: string;
let fixturePid: number;
let legacyHttp: LegacyHttpServer;
let legacySse: LegacySseServer;
let wsGateway: Gateway;
let wsGatewayUrl: string;
const bridgePids: number[] = [];

/** A `translate --connect*` process as the stdio server of an SDK client. */
const viaTranslate = async (flag: string, url: string) => {
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, "translate", flag, url, "--log-level", "warn"], stderr: "ignore" });
  const client = await connectClient(transport);
  bridgePids.push(transport.pid!);
  return client;
};

const pairs: Pair[] = [
  { name: "stdio→SSE", connect: () => connectClient(new SSEClientTransport(new URL(`${translateUrl}/sse`))), cancelled: async (c) => (await statsOf(c)).cancelled, notify: viaPid },
  { name: "stdio→streamable HTTP", connect: () => connectClient(new StreamableHTTPClientTransport(new URL(`${translateUrl}/mcp`))), cancelled: async (c) => (await statsOf(c)).cancelled, notify: viaPid },
  { name: "stdio→WS", connect: () => connectClient(new WsClientTransport(new URL(`${translateUrl.replace(/^http/, "ws")}/ws`))), cancelled: async (c) => (await statsOf(c)).cancelled, notify: viaPid },
  { name: "streamable HTTP→stdio", connect: () => viaTranslate("--connect", legacyHttp.url), cancelled: async () => legacyHttp.cancelled, notify: async () => void (await legacyHttp.updateResource(README_URI)) },
  { name: "SSE→stdio", connect: () => viaTranslate("--connect-sse", legacySse.url), cancelled: async () => legacySse.cancelled, notify: async () => void (await legacySse.updateResource(README_URI)) },
  { name: "WS→stdio", connect: () => viaTranslate("--connect-ws", wsGatewayUrl), cancelled: async (c) => (await statsOf(c)).cancelled, notify: viaPid },
];

beforeAll(async () => {
  const { command, args } = stdioServerCommand({ name: "conformance" });
  translate = spawn(process.execPath, [bin, "translate", "--stdio", [command, ...args].map(quote).join(" "), "--port", "0", "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  translateUrl = await within(
    new Promise<string>((resolve) => {
      translate.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
    }),
    20_000,
    "translate --stdio to start",
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${output}`);
  });
  [legacyHttp, legacySse] = await Promise.all([startLegacyHttpServer({ name: "remote-http" }), startLegacySseServer({ name: "remote-sse" })]);
  wsGateway = await createGateway({ log: { level: "silent" }, server: { maxBodySize: 64 * 1024 * 1024 }, upstreams: { fx: { type: "stdio", command, args, prefix: false } } });
  wsGatewayUrl = (await wsGateway.listen({ port: 0 })).url.replace(/^http/, "ws") + "/ws";
}, 60_000);

afterAll(async () => {
  translate?.kill("SIGKILL");
  await Promise.allSettled([legacyHttp?.close(), legacySse?.close(), wsGateway?.close()]);
});

describe.each(pairs)("bridge $name", (pair) => {
  let client: Client;
  beforeAll(async () => {
    client = await pair.connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close().catch(() => {});
  });

  it("lists tools, resources and prompts", async () => {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "slow", "sample", "elicit", "big"]));
    expect((await client.listResources()).resources.map((r) => r.uri)).toContain(README_URI);
    expect((await client.listPrompts()).prompts.length).toBeGreaterThan(0);
  });

  it("calls a tool and keeps non-ASCII text and structured content intact", async () => {
    const result = await client.callTool({ name: "echo", arguments: { text: NON_ASCII } });
    expect(firstText(result)).toBe(NON_ASCII);
    expect(result.structuredContent).toEqual({ text: NON_ASCII });
  });

  it("forwards progress notifications in order", async () => {
    const seen: number[] = [];
    const result = await client.callTool({ name: "slow", arguments: { steps: 5, ms: 20 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
    expect(firstText(result)).toBe("done");
    // The SDK client runs onprogress a microtask after it settles the response: a last progress sharing the result's chunk can miss it.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it("forwards a cancellation to the upstream", async () => {
    const before = await pair.cancelled(client);
    const controller = new AbortController();
    const call = client.callTool({ name: "slow", arguments: { steps: 200, ms: 20 } }, undefined, { signal: controller.signal, onprogress: () => controller.abort("user gave up") });
    await expect(within(call, 5000, "the cancelled call")).rejects.toThrow();
    await waitFor(async () => (await pair.cancelled(client)) > before, 5000, "the upstream to see the cancellation");
  });

  it("carries a sampling request back to the client and its answer to the server", async () => {
    expect(firstText(await client.callTool({ name: "sample", arguments: { prompt: "2+2 ü?" } }))).toBe("sampled:model says 2+2 ü?");
  });

  it("carries an elicitation request back to the client and its answer to the server", async () => {
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "Meaning?" } }))).toBe("answer:42 ✓");
  });

  it("forwards server notifications (logging, resources/updated)", async () => {
    await client.setLoggingLevel("info");
    const logged = nextEvent<unknown>((resolve) => client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => resolve(n.params.data)));
    await client.callTool({ name: "echo", arguments: { text: "log me" } });
    expect(await logged).toBe("echo: log me");
    await client.subscribeResource({ uri: README_URI });
    const updated = nextEvent<string>((resolve) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)));
    await pair.notify(client);
    expect(await updated).toBe(README_URI);
  });

  it("passes errors through: a JSON-RPC error, an isError result, an unknown tool", async () => {
    await expect(client.callTool({ name: "throws", arguments: {} })).rejects.toThrow(/boom/);
    const failed = await client.callTool({ name: "fail", arguments: {} });
    expect(failed.isError).toBe(true);
    expect(firstText(failed)).toBe("failed on purpose");
    const unknown = await client.callTool({ name: "no_such_tool", arguments: {} }).catch((error: Error) => ({ isError: true, error }));
    expect(unknown.isError).toBe(true);
  });

  it("carries ≥ 5 MB payloads both ways", async () => {
    const big = firstText(await within(client.callTool({ name: "big", arguments: { bytes: FIVE_MB } }), 20_000, "a 5 MB result"));
    expect(Buffer.byteLength(big)).toBe(FIVE_MB);
    expect(big).toBe(bigText(FIVE_MB));
    // A 5 MB request: `add` ignores the padding, so its answer proves the whole message arrived and parsed.
    const padded = await within(client.callTool({ name: "add", arguments: { a: 2, b: 3, pad: bigText(FIVE_MB) } }), 20_000, "a 5 MB request");
    expect(firstText(padded)).toBe("5");
  });
});

/** A 2026-07-28 client (pinned: no fallback) that answers sampling and elicitation through `input_required`. */
async function connectModern(transport: TransportV2): Promise<ClientV2> {
  const client = new ClientV2(
    { name: "bridge-conformance-2026", version: "1" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: { sampling: {}, elicitation: { form: {} } } },
  );
  client.setRequestHandler("sampling/createMessage", async (request) => {
    const first = request.params.messages[0]?.content;
    const text = first && !Array.isArray(first) && first.type === "text" ? first.text : "?";
    return { role: "assistant", model: "test", content: { type: "text", text: `model says ${text}` } };
  });
  client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { answer: "42 ✓" } }));
  await within(client.connect(transport), 20_000, "the 2026-07-28 client to connect");
  return client;
}

const viaTranslateModern = (flag: string, url: string) => {
  const transport = new StdioClientTransportV2({ command: process.execPath, args: [bin, "translate", flag, url, "--log-level", "warn"], stderr: "ignore" });
  return connectModern(transport).finally(() => transport.pid && bridgePids.push(transport.pid));
};

const modernPairs: { name: string; connect(): Promise<ClientV2> }[] = [
  { name: "stdio→streamable HTTP", connect: () => connectModern(new HttpClientTransport(new URL(`${translateUrl}/mcp`)) as TransportV2) },
  { name: "stdio→WS", connect: () => connectModern(new WsClientTransport(new URL(`${translateUrl.replace(/^http/, "ws")}/ws`))) },
  { name: "streamable HTTP→stdio", connect: () => viaTranslateModern("--connect", wsGatewayUrl.replace(/^ws/, "http").replace(/\/ws$/, "/mcp")) },
  { name: "WS→stdio", connect: () => viaTranslateModern("--connect-ws", wsGatewayUrl) },
];

describe.each(modernPairs)("bridge $name, 2026-07-28 client", (pair) => {
  let client: ClientV2;
  beforeAll(async () => {
    client = await pair.connect();
  }, 30_000);
  afterAll(async () => {
    await client?.close().catch(() => {});
  });

  it("stays in its era, lists and calls with non-ASCII text and structured content intact", async () => {
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "slow", "sample", "elicit", "big"]));
    const result = await client.callTool({ name: "echo", arguments: { text: NON_ASCII } });
    expect(firstText(result)).toBe(NON_ASCII);
    expect(result.structuredContent).toEqual({ text: NON_ASCII });
  });

  it("forwards progress, and answers sampling and elicitation as input_required rounds", async () => {
    const seen: number[] = [];
    expect(firstText(await client.callTool({ name: "slow", arguments: { steps: 5, ms: 20 } }, { onprogress: (p) => seen.push(p.progress) }))).toBe("done");
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(firstText(await client.callTool({ name: "sample", arguments: { prompt: "2+2 ü?" } }))).toBe("sampled:model says 2+2 ü?");
    expect(firstText(await client.callTool({ name: "elicit", arguments: { question: "Meaning?" } }))).toBe("answer:42 ✓");
  });

  it("passes errors through and carries a ≥ 5 MB result", async () => {
    await expect(client.callTool({ name: "throws", arguments: {} })).rejects.toThrow(/boom/);
    expect((await client.callTool({ name: "fail", arguments: {} })).isError).toBe(true);
    const big = firstText(await within(client.callTool({ name: "big", arguments: { bytes: FIVE_MB } }), 20_000, "a 5 MB result"));
    expect(big).toBe(bigText(FIVE_MB));
  });
});

describe("bridge process hygiene", () => {
  it("leaves no process behind: --connect bridges exit with their client, the stdio child with translate", async () => {
    fixturePid = Number(firstText(await (await pairs[1]!.connect()).callTool({ name: "pid", arguments: {} })));
    // Three --connect* pairs for the 2025-era client, two for the 2026-07-28 one.
    expect(bridgePids.length).toBe(5);
    await waitFor(() => bridgePids.every((pid) => !isAlive(pid)), 5000, "the --connect bridges to exit");
    expect(isAlive(fixturePid)).toBe(true);
    translate.kill("SIGTERM");
    await within(new Promise((resolve) => translate.once("exit", resolve)), 10_000, "translate to exit");
    await waitFor(() => !isAlive(fixturePid), 5000, "the stdio child to exit");
  });
});
