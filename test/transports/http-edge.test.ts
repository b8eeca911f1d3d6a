/**
 * The HTTP surface of a gateway (`/mcp`, `/sse`, `/messages`, `/health`), spoken to with raw requests:
 * over real HTTP (`gw.listen({ port: 0 })`) and in-process (`gw.fetch(new Request(...))`).
 * Upstreams are real fixture servers; one upstream points at a closed port to make the gateway degraded.
 */
import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { connectV1, waitFor, within } from "../_helpers.ts";
import { startLegacyHttpServer, startModernHttpServer, type LegacyHttpServer, type ModernHttpServer } from "../fixtures/servers.ts";

const MAX_BODY = 2048;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACCEPT = "application/json, text/event-stream";
const LEGACY_VERSION = "2025-11-25";
const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
};

interface RpcBody {
  jsonrpc?: string;
  id?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** The JSON-RPC message of a response, whether it came as JSON or as the single `data:` of an SSE reply. */
async function rpcOf(response: Response): Promise<RpcBody> {
  const text = await within(response.text(), 5000, "response body");
  if (!response.headers.get("content-type")?.includes("text/event-stream")) return JSON.parse(text) as RpcBody;
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as RpcBody)
    .filter((message) => "result" in message || "error" in message);
  if (data.length !== 1) throw new Error(`expected one JSON-RPC reply in the SSE body, got: ${text}`);
  return data[0]!;
}

/** Reads an SSE body until the first complete event (bounded), leaving the stream open. */
async function firstEvent(body: ReadableStream<Uint8Array>): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; event: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n\n")) {
    const { done, value } = await within(reader.read(), 5000, "first SSE event");
    if (done) throw new Error(`SSE stream ended before the first event: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return { reader, event: text.slice(0, text.indexOf("\n\n")) };
}

/** A body that arrives in chunks with no Content-Length (`transfer-encoding: chunked` over HTTP). */
function chunkedBody(totalBytes: number, chunkBytes = 512): ReadableStream<Uint8Array> {
  const json = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(totalBytes) } });
  const bytes = new TextEncoder().encode(json);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkBytes));
      offset += chunkBytes;
    },
  });
}

const initializeBody = (id = 1) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: LEGACY_VERSION, capabilities: {}, clientInfo: { name: "http-edge", version: "1.0.0" } },
  });

type Send = (path: string, init?: RequestInit) => Promise<Response>;

let modernFx: ModernHttpServer;
let legacyFx: LegacyHttpServer;
let gw: Gateway;
let listening: { url: string; close(): Promise<void> };

beforeAll(async () => {
  [modernFx, legacyFx] = await Promise.all([startModernHttpServer({ name: "modern-fx" }), startLegacyHttpServer({ name: "legacy-fx" })]);
  gw = await createGateway({
    server: { maxBodySize: MAX_BODY, allowedOrigins: ["https://app.example.com"] },
    log: { level: "silent" },
    upstreams: {
      modern: { type: "streamable-http", url: modernFx.url },
      legacy: { type: "streamable-http", url: legacyFx.url },
      down: { type: "streamable-http", url: "http://127.0.0.1:1/mcp", restart: { maxRetries: 0 } },
    },
  });
  listening = await gw.listen({ port: 0 });
});

afterAll(async () => {
  await listening?.close();
  await gw?.close();
  await Promise.all([modernFx?.close(), legacyFx?.close()]);
});

const targets: { label: string; send: Send }[] = [
  { label: "over HTTP (listen)", send: (path, init) => fetch(listening.url + path, init) },
  { label: "in-process (gw.fetch)", send: (path, init) => gw.fetch(new Request(`http://localhost${path}`, init)) },
];

describe.each(targets)("/mcp $label", ({ send }) => {
  const post = (body: BodyInit, headers: Record<string, string> = {}, extra: RequestInit = {}) =>
    send("/mcp", { method: "POST", headers: { "content-type": "application/json", accept: ACCEPT, ...headers }, body, ...extra });

  /** Opens a 2025-era session by hand; returns its id. */
  const openSession = async (): Promise<string> => {
    const response = await post(initializeBody());
    expect(response.status).toBe(200);
    const id = response.headers.get("mcp-session-id");
    expect((await rpcOf(response)).result?.protocolVersion).toBe(LEGACY_VERSION);
    expect(id).toBeTruthy();
    const initialized = await post(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), {
      "mcp-session-id": id!,
      "mcp-protocol-version": LEGACY_VERSION,
    });
    expect(initialized.status).toBe(202);
    return id!;
  };

  describe("request validation", () => {
    it("answers malformed JSON with HTTP 400 and JSON-RPC -32700", async () => {
      const response = await post("{not json");
      expect(response.status).toBe(400);
      expect((await rpcOf(response)).error?.code).toBe(-32700);
    });

    it("answers a non-JSON content type with HTTP 415", async () => {
      const response = await post(initializeBody(), { "content-type": "text/plain" });
      expect(response.status).toBe(415);
      expect((await rpcOf(response)).error?.code).toBe(-32600);
    });

    it("answers a body over server.maxBodySize with HTTP 413 when Content-Length declares it", async () => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(MAX_BODY * 2) } });
      const response = await post(body);
      expect(response.status).toBe(413);
      expect((await rpcOf(response)).error?.message).toMatch(/too large/i);
    });

    it("answers a chunked body over server.maxBodySize (no Content-Length) with HTTP 413", async () => {
      const response = await post(chunkedBody(MAX_BODY * 2), {}, { duplex: "half" } as RequestInit);
      expect(response.status).toBe(413);
      expect((await rpcOf(response)).error?.message).toMatch(/too large/i);
    });

    it.each(["2025-06-18", "2025-11-25"])("rejects a JSON-RPC batch under MCP-Protocol-Version %s with 400 / -32600", async (version) => {
      const batch = JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "ping" },
        { jsonrpc: "2.0", id: 2, method: "ping" },
      ]);
      const response = await post(batch, { "mcp-protocol-version": version });
      expect(response.status).toBe(400);
      expect((await rpcOf(response)).error?.code).toBe(-32600);
    });

    it("rejects a JSON object that is not a JSON-RPC message with 400 / -32600", async () => {
      const response = await post(JSON.stringify({ hello: "world" }));
      expect(response.status).toBe(400);
      expect((await rpcOf(response)).error?.code).toBe(-32600);
    });

    it("answers an unsupported method (PUT) with 405", async () => {
      const response = await send("/mcp", { method: "PUT", headers: { "content-type": "application/json" }, body: "{}" });
      expect(response.status).toBe(405);
    });
  });

  describe("2025-era sessions", () => {
    it("gives every initialize a fresh random UUID as Mcp-Session-Id", async () => {
      const [a, b] = await Promise.all([openSession(), openSession()]);
      expect(a).toMatch(UUID_RE);
      expect(b).toMatch(UUID_RE);
      expect(a).not.toBe(b);
    });

    it("serves tools/list in a session, prefixed per upstream", async () => {
      const id = await openSession();
      const response = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), {
        "mcp-session-id": id,
        "mcp-protocol-version": LEGACY_VERSION,
      });
      expect(response.status).toBe(200);
      const names = ((await rpcOf(response)).result?.tools as { name: string }[]).map((t) => t.name);
      expect(names).toContain("modern__echo");
      expect(names).toContain("legacy__whoami");
    });

    it("answers an unknown session id with 404 / -32001", async () => {
      const response = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), {
        "mcp-session-id": randomUUID(),
        "mcp-protocol-version": LEGACY_VERSION,
      });
      expect(response.status).toBe(404);
      expect((await rpcOf(response)).error?.code).toBe(-32001);
    });

    it("answers a non-initialize POST without a session id with 400", async () => {
      const response = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), {
        "mcp-protocol-version": LEGACY_VERSION,
      });
      expect(response.status).toBe(400);
      expect((await rpcOf(response)).error?.code).toBe(-32600);
    });

    it("ends a session on DELETE: the next request with its id gets 404", async () => {
      const id = await openSession();
      const deleted = await send("/mcp", { method: "DELETE", headers: { "mcp-session-id": id, "mcp-protocol-version": LEGACY_VERSION } });
      expect(deleted.status).toBe(200);
      await deleted.body?.cancel();
      const after = await post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" }), {
        "mcp-session-id": id,
        "mcp-protocol-version": LEGACY_VERSION,
      });
      expect(after.status).toBe(404);
      expect((await rpcOf(after)).error?.code).toBe(-32001);
    });

    it("opens an SSE stream on GET with a session id at once, and frees it when the client cancels", async () => {
      const id = await openSession();
      const openStream = () =>
        within(
          send("/mcp", {
            method: "GET",
            headers: { accept: "text/event-stream", "mcp-session-id": id, "mcp-protocol-version": LEGACY_VERSION },
          }),
          2000,
          "GET stream headers",
        );
      const response = await openStream();
      try {
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      } finally {
        await response.body?.cancel();
      }
      // One standalone stream per session: a second GET succeeds only once the first one is gone.
      await waitFor(
        async () => {
          const again = await openStream();
          await again.body?.cancel();
          return again.status === 200;
        },
        3000,
        "the cancelled GET stream to be released",
      );
    });

    it("answers GET and DELETE without a session id with 400", async () => {
      for (const method of ["GET", "DELETE"]) {
        const response = await send("/mcp", { method, headers: { accept: "text/event-stream" } });
        expect(response.status).toBe(400);
        await response.body?.cancel();
      }
    });
  });

  describe("Origin and Host checks", () => {
    it("refuses a foreign Origin with 403", async () => {
      const response = await post(initializeBody(), { origin: "https://evil.example" });
      expect(response.status).toBe(403);
      expect((await rpcOf(response)).error?.message).toMatch(/origin/i);
    });

    it("accepts a loopback Origin (http://localhost:5173) on a loopback bind", async () => {
      const response = await post(initializeBody(), { origin: "http://localhost:5173" });
      expect(response.status).toBe(200);
      expect(response.headers.get("mcp-session-id")).toMatch(UUID_RE);
      await response.body?.cancel();
    });

    it("accepts an Origin listed in server.allowedOrigins", async () => {
      const response = await post(initializeBody(), { origin: "https://app.example.com" });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    });

    it("guards /sse and /messages with the same Origin check", async () => {
      const sse = await send("/sse", { headers: { origin: "https://evil.example", accept: "text/event-stream" } });
      expect(sse.status).toBe(403);
      await sse.body?.cancel();
      const messages = await send(`/messages?sessionId=${randomUUID()}`, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
      });
      expect(messages.status).toBe(403);
    });
  });

  describe("2026-07-28 requests (no session)", () => {
    const modernPost = (method: string, headerMethod = method, id = 1) =>
      post(JSON.stringify({ jsonrpc: "2.0", id, method, params: { _meta: MODERN_META } }), {
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": headerMethod,
      });

    it("answers tools/list with every upstream's tools and no Mcp-Session-Id", async () => {
      const response = await modernPost("tools/list");
      expect(response.status).toBe(200);
      expect(response.headers.get("mcp-session-id")).toBeNull();
      const rpc = await rpcOf(response);
      expect(rpc.error).toBeUndefined();
      const names = (rpc.result?.tools as { name: string }[]).map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["modern__echo", "modern__whoami", "legacy__echo", "legacy__whoami"]));
      expect(names.some((n) => n.startsWith("down__"))).toBe(false);
    });

    it("answers server/discover with 2026-07-28 and the gateway's capabilities", async () => {
      const response = await modernPost("server/discover");
      expect(response.status).toBe(200);
      const rpc = await rpcOf(response);
      expect(rpc.result?.supportedVersions).toContain("2026-07-28");
      expect(rpc.result?.capabilities).toMatchObject({ tools: {} });
    });

    it("rejects an Mcp-Method header that disagrees with the body (SDK HeaderMismatch -32020)", async () => {
      const response = await modernPost("tools/list", "tools/call", 7);
      expect(response.status).toBe(400);
      const rpc = await rpcOf(response);
      expect(rpc.result).toBeUndefined();
      // The SDK's code for a header/body mismatch; recorded here so a change in the SDK shows up.
      expect(rpc.error?.code).toBe(-32020);
      expect(rpc.error?.message).toMatch(/Mcp-Method/);
    });
  });

  describe("legacy HTTP+SSE", () => {
    it("answers POST /messages with an unknown sessionId with 404 / -32001", async () => {
      const response = await send(`/messages?sessionId=${randomUUID()}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
      });
      expect(response.status).toBe(404);
      expect((await rpcOf(response)).error?.code).toBe(-32001);
    });

    it("opens GET /sse with an endpoint event, accepts POSTs for that session, and 404s after the stream is cancelled", async () => {
      const sse = await send("/sse", { headers: { accept: "text/event-stream" } });
      expect(sse.status).toBe(200);
      expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const { reader, event } = await firstEvent(sse.body!);
      let cancelled = false;
      try {
        expect(event).toMatch(/^event: endpoint\ndata: /);
        const endpoint = event.split("\ndata: ")[1]!;
        const sessionId = new URL(endpoint, "http://x/sse").searchParams.get("sessionId");
        expect(sessionId).toMatch(UUID_RE);
        const postMessage = (body: string) =>
          send(`/messages?sessionId=${sessionId}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
        const accepted = await postMessage(initializeBody());
        expect(accepted.status).toBe(202);
        await accepted.body?.cancel();

        await reader.cancel();
        cancelled = true;
        const ping = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" });
        await waitFor(async () => (await postMessage(ping)).status === 404, 3000, "the SSE session to end after cancel");
      } finally {
        if (!cancelled) await reader.cancel();
      }
    });

    it("answers a stray POST /messages with an unknown sessionId while another SSE stream is open with 404", async () => {
      const sse = await send("/sse", { headers: { accept: "text/event-stream" } });
      const { reader } = await firstEvent(sse.body!);
      try {
        const response = await send(`/messages?sessionId=${randomUUID()}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
        });
        expect(response.status).toBe(404);
      } finally {
        await reader.cancel();
      }
    });
  });
});

describe("Host header (DNS rebinding) on a loopback-bound gateway", () => {
  it("refuses Host: evil.example over HTTP with 403", async () => {
    const { port } = new URL(listening.url);
    const { status, body } = await within(
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: "127.0.0.1",
            port: Number(port),
            path: "/mcp",
            method: "POST",
            headers: { host: "evil.example", "content-type": "application/json", accept: ACCEPT },
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
            res.on("error", reject);
          },
        );
        req.on("error", reject);
        req.end(initializeBody());
      }),
      5000,
      "response to a request with a foreign Host",
    );
    expect(status).toBe(403);
    expect(body).toMatch(/Host not allowed/);
  });

  it("refuses an in-process Request addressed to http://evil.example with 403", async () => {
    const response = await gw.fetch(
      new Request("http://evil.example/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: ACCEPT },
        body: initializeBody(),
      }),
    );
    expect(response.status).toBe(403);
  });
});

describe("/health", () => {
  it("reports degraded, the dead upstream as failed with lastError, and per-upstream tool counts", async () => {
    const response = await fetch(`${listening.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const report = (await response.json()) as {
      status: string;
      upstreams: Record<string, { state: string; tools: number; lastError?: string }>;
    };
    expect(report.status).toBe("degraded");
    expect(report.upstreams.down).toMatchObject({ state: "failed", tools: 0 });
    expect(report.upstreams.down?.lastError).toEqual(expect.any(String));
    expect(report.upstreams.down?.lastError).not.toMatch(/\n\s+at /);
    expect(report.upstreams.modern).toMatchObject({ state: "connected", tools: 9 });
    expect(report.upstreams.legacy).toMatchObject({ state: "connected", tools: 9 });
    expect(gw.health().status).toBe("degraded");
  });

  it("is answered in-process by gw.fetch too", async () => {
    const response = await gw.fetch(new Request("http://localhost/health"));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe("degraded");
  });
});

describe("through a v1 SDK client while one upstream is down", () => {
  let client: ClientV1;

  beforeAll(async () => {
    client = await connectV1(`${listening.url}/mcp`, "http-edge-v1");
  });

  afterAll(async () => {
    await client?.close();
  });

  it("still lists and calls the healthy upstreams' tools", async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(18);
    const result = await client.callTool({ name: "legacy__whoami", arguments: {} });
    expect(result.content).toEqual([{ type: "text", text: "legacy-fx" }]);
  });

  it.each(["modern__throws", "legacy__throws"])("returns %s's error with its message and no stack trace", async (name) => {
    const error = await client.callTool({ name, arguments: {} }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number; data?: unknown },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain("boom");
    expect(error!.message).not.toContain("    at ");
    expect(JSON.stringify(error!.data ?? null)).not.toContain("    at ");
    expect(typeof error!.code).toBe("number");
  });
});
