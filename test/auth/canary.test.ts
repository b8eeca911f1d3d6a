import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { formatWithOptions } from "node:util";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createConsola } from "consola";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { otel } from "../../plugins/otel/index.ts";
import { apiKeyProvider, memoryApiKeyStore } from "../../src/auth/api-keys.ts";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { maskSecrets } from "../../src/_utils/mask.ts";
import { startLegacyHttpServer, stdioServerCommand, type LegacyHttpServer } from "../fixtures/servers.ts";

/**
 * Canary secrets: configure known secrets everywhere a secret can be configured, run a full scenario over a real
 * gateway, then search every HTTP response (body and headers), log line, trace attribute and exported document.
 */
const tag = randomBytes(4).toString("hex");
const CANARY = {
  jwtSecret: `canary-${tag}-jwt-secret-padding-to-32-bytes`,
  upstreamToken: `canary-${tag}-upstream-bearer`,
  upstreamKey: `canary-${tag}-upstream-api-key`,
  urlPassword: `canary-${tag}-url-password`,
  downHeader: `canary-${tag}-down-header`,
  downPassword: `canary-${tag}-down-password`,
  stdioEnv: `canary-${tag}-stdio-env`,
} as const;
const ISS = "https://issuer.test";
const AUD = "gw";

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const logLines: string[] = [];
const captured: string[] = [];
let upstream: LegacyHttpServer;
let closedPort: number;
let gw: Gateway;
let url: string;
let apiKey: string;

/** `fetch` that records every response's status, headers and body (bodies read from a clone). */
const pending: Promise<void>[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  captured.push(`${response.status} ${JSON.stringify([...response.headers])}`);
  const copy = response.clone();
  pending.push(copy.text().then((text) => void captured.push(text), () => {}));
  return response;
};

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  upstream = await startLegacyHttpServer({ name: "up" });
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const store = memoryApiKeyStore();
  apiKey = (await store.create({ name: "canary", subject: "key-user", scopes: ["mcp"] })).key;
  const log = createConsola({
    level: 5,
    reporters: [{ log: (entry) => void logLines.push(`${entry.tag} ${formatWithOptions({ depth: 10 }, ...entry.args)}`) }],
  });
  const upUrl = new URL(upstream.url);
  upUrl.username = "gw";
  upUrl.password = CANARY.urlPassword;
  const { command, args } = stdioServerCommand({ name: "local" });
  gw = await createGateway(
    {
      log: { level: "debug" },
      auth: { jwt: { secret: CANARY.jwtSecret, issuer: ISS, audience: AUD, algorithms: ["HS256"] }, providers: [apiKeyProvider({ store })] },
      plugins: [otel({ recordArguments: true })],
      upstreams: {
        up: { type: "streamable-http", url: upUrl.toString(), protocol: "legacy", headers: { authorization: `Bearer ${CANARY.upstreamToken}`, "x-api-key": CANARY.upstreamKey } },
        down: {
          type: "streamable-http",
          url: `http://gw:${CANARY.downPassword}@127.0.0.1:${closedPort}/mcp`,
          headers: { authorization: `Bearer ${CANARY.downHeader}` },
          restart: { initialDelayMs: 20, maxDelayMs: 50, maxRetries: 2 },
        },
        local: { type: "stdio", command, args, env: { FIXTURE_SECRET: CANARY.stdioEnv } },
      },
    },
    { log },
  );
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await tracerProvider.shutdown();
});

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "canary", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers }, fetch: recordingFetch }));
  return client;
}

async function scenario(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name)).toContain("up__echo");
  await client.callTool({ name: "up__echo", arguments: { text: "hello" } });
  await client.callTool({ name: "local__echo", arguments: { text: "hello" } });
  await client.callTool({ name: "up__fail", arguments: {} });
  await client.callTool({ name: "up__throws", arguments: {} }).catch(() => {});
  await client.callTool({ name: "down__anything", arguments: {} }).catch(() => {});
  await client.readResource({ uri: "fixture://readme" }).catch(() => {});
  await client.listPrompts();
  await client.getPrompt({ name: "up__greet", arguments: { name: "alice" } }).catch(() => {});
  await client.close();
}

describe("canary secrets", () => {
  it("never appear in any HTTP response, log line, trace attribute or exported document", async () => {
    const token = await mintToken({ secret: CANARY.jwtSecret, sub: "alice", iss: ISS, aud: AUD, expiresIn: "5m", scope: "mcp" });
    await scenario(await connect({ authorization: `Bearer ${token}` }));
    await scenario(await connect({ "x-api-key": apiKey }));

    const raw = (path: string, init: RequestInit = {}) => recordingFetch(`${url}${path}`, init);
    const post = (headers: Record<string, string>, body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })) =>
      raw("/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body });
    const forged = await mintToken({ secret: `${CANARY.jwtSecret}-forged`, sub: "mallory", iss: ISS, aud: AUD, expiresIn: "5m" });
    const statuses = [
      (await raw("/health")).status,
      (await raw("/.well-known/oauth-protected-resource")).status,
      (await post({})).status,
      (await post({ authorization: `Bearer ${forged}` })).status,
      (await post({ authorization: `Bearer ${CANARY.upstreamToken}` })).status,
      (await post({ "x-api-key": `${apiKey.slice(0, -3)}abc` })).status,
      (await post({ authorization: `Bearer ${token}`, origin: "https://evil.example" })).status,
      (await post({ authorization: `Bearer ${token}` }, "{not json")).status,
      (await post({ authorization: `Bearer ${token}` }, "x".repeat(5 * 1024 * 1024))).status,
    ];
    expect(statuses).toEqual([expect.any(Number), 404, 401, 401, 401, 401, 403, 400, 413]);
    await Promise.all(pending);

    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(0);
    const exported = {
      health: gw.health(),
      config: maskSecrets(gw.config),
      spans: spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
    };
    const haystacks: [string, string[]][] = [
      ["HTTP responses", captured],
      ["log lines", logLines],
      ["exported documents and trace attributes", [JSON.stringify(exported)]],
    ];
    expect(captured.length).toBeGreaterThan(30);
    expect(logLines.length).toBeGreaterThan(5);
    const hits: string[] = [];
    for (const [where, texts] of haystacks) {
      for (const [name, secret] of Object.entries(CANARY)) {
        const forms = [secret, Buffer.from(secret).toString("base64"), encodeURIComponent(secret)];
        for (const text of texts) if (forms.some((form) => text.includes(form))) hits.push(`${name} in ${where}: ${text.slice(0, 300)}`);
      }
      // Client credentials too: the API key's secret part and the client's JWT signature.
      for (const credential of [apiKey.slice(-43), token.split(".")[2]!]) for (const text of texts) if (text.includes(credential)) hits.push(`client credential in ${where}`);
    }
    expect(hits).toEqual([]);
  });
});
