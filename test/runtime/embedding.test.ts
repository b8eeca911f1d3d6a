/**
 * A gateway embedded in someone else's server: Express 5 under a prefix, plain `node:http`, an h3 v2 parent
 * app (the way Nitro mounts it), two gateways side by side in one process, and `gw.fetch` driven by hand.
 * Real SDK clients (v1 and v2) over real HTTP on 127.0.0.1, real upstream fixtures.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as StreamableHTTPClientTransportV2 } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import express from "express";
import { H3 } from "h3";
import { serve } from "srvx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { connectV1, connectV2, firstText, portIsFree } from "../_helpers.ts";
import { listen } from "../fixtures/http.ts";
import { startLegacyHttpServer, startModernHttpServer, type LegacyHttpServer, type ModernHttpServer } from "../fixtures/servers.ts";

const BASE_TOOLS = ["echo", "add", "slow", "sample", "elicit", "fail", "throws", "big", "whoami"];
const ACCEPT = "application/json, text/event-stream";

/** Connect a client, run `use`, always close the client. */
async function withClient<C extends { close(): Promise<void> }>(client: C, connect: (c: C) => Promise<void>, use: (c: C) => Promise<void>) {
  try {
    await connect(client);
    await use(client);
  } finally {
    await client.close();
  }
}

/** The checks every embedding must pass, given the URL the gateway's routes live under. */
function embeddingSuite(label: string, setup: () => Promise<{ base: string; close(): Promise<void> }>, upstreamName: () => string) {
  describe(label, () => {
    let host: { base: string; close(): Promise<void> };

    beforeAll(async () => {
      host = await setup();
    });

    afterAll(async () => {
      await host?.close();
    });

    it("serves a v1 SDK client over streamable HTTP: list and call tools", async () => {
      await withClient(
        new ClientV1({ name: "embed-v1", version: "1.0.0" }),
        (c) => c.connect(new StreamableHTTPClientTransport(new URL(`${host.base}/mcp`))),
        async (client) => {
          expect(client.getServerVersion()?.name).toBe("mcp-gateway");
          const { tools } = await client.listTools();
          expect(tools.map((t) => t.name)).toEqual(BASE_TOOLS.map((n) => `up__${n}`));
          expect(firstText(await client.callTool({ name: "up__echo", arguments: { text: "héllo" } }))).toBe("héllo");
          expect(firstText(await client.callTool({ name: "up__whoami", arguments: {} }))).toBe(upstreamName());
        },
      );
    });

    it("serves a v2 SDK client (auto negotiation → 2026-07-28): list and call tools", async () => {
      await withClient(
        new ClientV2({ name: "embed-v2", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } }),
        (c) => c.connect(new StreamableHTTPClientTransportV2(new URL(`${host.base}/mcp`))),
        async (client) => {
          expect(client.getProtocolEra()).toBe("modern");
          const { tools } = await client.listTools();
          expect(tools.map((t) => t.name)).toEqual(BASE_TOOLS.map((n) => `up__${n}`));
          expect(firstText(await client.callTool({ name: "up__add", arguments: { a: 2, b: 40 } }))).toBe("42");
          expect(firstText(await client.callTool({ name: "up__whoami", arguments: {} }))).toBe(upstreamName());
        },
      );
    });

    it("serves a v1 SDK client over legacy HTTP+SSE (the endpoint event resolves under the mount path)", async () => {
      await withClient(
        new ClientV1({ name: "embed-sse", version: "1.0.0" }),
        (c) => c.connect(new SSEClientTransport(new URL(`${host.base}/sse`))),
        async (client) => {
          const { tools } = await client.listTools();
          expect(tools).toHaveLength(BASE_TOOLS.length);
          expect(firstText(await client.callTool({ name: "up__whoami", arguments: {} }))).toBe(upstreamName());
        },
      );
    });

    it("answers /health under the mount path", async () => {
      const response = await fetch(`${host.base}/health`);
      expect(response.status).toBe(200);
      const report = (await response.json()) as { status: string; upstreams: Record<string, { state: string; tools: number }> };
      expect(report.status).toBe("ok");
      expect(report.upstreams.up).toMatchObject({ state: "connected", tools: BASE_TOOLS.length });
    });
  });
}

let modernFx: ModernHttpServer;

beforeAll(async () => {
  modernFx = await startModernHttpServer({ name: "embedded-upstream" });
});

afterAll(async () => {
  await modernFx?.close();
});

const newGateway = () =>
  createGateway({ log: { level: "silent" }, upstreams: { up: { type: "streamable-http", url: modernFx.url } } });

embeddingSuite(
  'Express 5: app.use("/mcp-gw", gw.handler)',
  async () => {
    const gw = await newGateway();
    const app = express();
    app.get("/", (_req, res) => {
      res.send("host app");
    });
    app.use("/mcp-gw", gw.handler);
    const server = await listen(app);
    // The host app's own routes keep working next to the gateway.
    expect(await (await fetch(`${server.origin}/`)).text()).toBe("host app");
    return {
      base: `${server.origin}/mcp-gw`,
      close: async () => {
        await gw.close();
        await server.close();
      },
    };
  },
  () => modernFx.name,
);

embeddingSuite(
  "node:http createServer(gw.handler)",
  async () => {
    const gw = await newGateway();
    const server = await listen(gw.handler);
    return {
      base: server.origin,
      close: async () => {
        await gw.close();
        await server.close();
      },
    };
  },
  () => modernFx.name,
);

embeddingSuite(
  'h3 v2 parent app: parent.mount("/gw", gw.app) served by srvx',
  async () => {
    const gw = await newGateway();
    const parent = new H3();
    parent.get("/", () => "parent app");
    parent.mount("/gw", gw.app);
    const server = serve({ fetch: parent.fetch, port: 0, hostname: "127.0.0.1", silent: true, gracefulShutdown: false });
    await server.ready();
    const url = server.url!.replace(/\/$/, "");
    expect(await (await fetch(`${url}/`)).text()).toBe("parent app");
    return {
      base: `${url}/gw`,
      close: async () => {
        await gw.close();
        await server.close(true);
      },
    };
  },
  () => modernFx.name,
);

describe("two gateways in one process", () => {
  let alphaFx: ModernHttpServer;
  let betaFx: LegacyHttpServer;
  let alpha: Gateway;
  let beta: Gateway;
  let alphaServer: { url: string; close(): Promise<void> };
  let betaServer: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    [alphaFx, betaFx] = await Promise.all([startModernHttpServer({ name: "alpha-server" }), startLegacyHttpServer({ name: "beta-server" })]);
    [alpha, beta] = await Promise.all([
      createGateway({ log: { level: "silent" }, upstreams: { alpha: { type: "streamable-http", url: alphaFx.url } } }),
      createGateway({ log: { level: "silent" }, upstreams: { beta: { type: "streamable-http", url: betaFx.url } } }),
    ]);
    [alphaServer, betaServer] = await Promise.all([alpha.listen({ port: 0 }), beta.listen({ port: 0 })]);
  });

  afterAll(async () => {
    await Promise.allSettled([alpha?.close(), beta?.close()]);
    await Promise.all([alphaFx?.close(), betaFx?.close()]);
  });

  it("listens on two different ports", () => {
    expect(new URL(alphaServer.url).port).not.toBe(new URL(betaServer.url).port);
  });

  it("shows each client only its own gateway's tools, and whoami reaches the right upstream", async () => {
    const clientA = await connectV1(`${alphaServer.url}/mcp`, "a");
    const clientB = await connectV2(`${betaServer.url}/mcp`, "b");
    try {
      expect((await clientA.listTools()).tools.map((t) => t.name)).toEqual(BASE_TOOLS.map((n) => `alpha__${n}`));
      expect((await clientB.listTools()).tools.map((t) => t.name)).toEqual(BASE_TOOLS.map((n) => `beta__${n}`));
      expect(firstText(await clientA.callTool({ name: "alpha__whoami", arguments: {} }))).toBe("alpha-server");
      expect(firstText(await clientB.callTool({ name: "beta__whoami", arguments: {} }))).toBe("beta-server");
      await expect(clientA.callTool({ name: "beta__whoami", arguments: {} })).rejects.toThrow();
      expect(alpha.health().sessions).toBe(1);
      expect(beta.health().sessions).toBe(0); // the v2 client speaks 2026-07-28: no session
      expect(Object.keys(alpha.health().upstreams)).toEqual(["alpha"]);
      expect(Object.keys(beta.health().upstreams)).toEqual(["beta"]);
    } finally {
      await Promise.all([clientA.close(), clientB.close()]);
    }
  });

  it("keeps serving one gateway after the other is closed", async () => {
    const clientA = await connectV1(`${alphaServer.url}/mcp`, "a");
    const clientB = await connectV1(`${betaServer.url}/mcp`, "b");
    try {
      await alpha.close();
      expect(await portIsFree(alphaServer.url)).toBe(true);
      await expect(clientA.listTools()).rejects.toThrow();
      expect(firstText(await clientB.callTool({ name: "beta__whoami", arguments: {} }))).toBe("beta-server");
      expect(beta.health()).toMatchObject({ status: "ok", upstreams: { beta: { state: "connected" } } });
      // The closed gateway's upstream fixture saw its session go; the other one is untouched.
      expect(betaFx.sessions()).toBe(1);
    } finally {
      await Promise.allSettled([clientA.close(), clientB.close()]);
    }
  });
});

describe("gw.fetch(request) in-process, by hand", () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await newGateway();
  });

  afterAll(async () => {
    await gw?.close();
  });

  const rpc = async (response: Response): Promise<{ result?: Record<string, unknown>; error?: { code: number } }> => {
    const text = await response.text();
    if (!response.headers.get("content-type")?.includes("text/event-stream")) return JSON.parse(text);
    const messages = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)) as { id?: unknown; result?: Record<string, unknown>; error?: { code: number } })
      .filter((m) => m.id !== undefined);
    expect(messages).toHaveLength(1);
    return messages[0]!;
  };

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    gw.fetch(
      new Request("http://localhost/mcp", {
        method: "POST",
        headers: { "content-type": "application/json", accept: ACCEPT, ...headers },
        body: JSON.stringify(body),
      }),
    );

  it("runs initialize → initialized → tools/list → tools/call → DELETE with a session", async () => {
    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "by-hand", version: "1.0.0" } },
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get("mcp-session-id")!;
    expect(sessionId).toBeTruthy();
    expect((await rpc(init)).result).toMatchObject({ protocolVersion: "2025-11-25", serverInfo: { name: "mcp-gateway" } });

    const session = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" };
    const initialized = await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session);
    expect(initialized.status).toBe(202);

    const list = await rpc(await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, session));
    expect((list.result?.tools as { name: string }[]).map((t) => t.name)).toEqual(BASE_TOOLS.map((n) => `up__${n}`));

    const call = await rpc(await post({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "up__echo", arguments: { text: "by hand" } } }, session));
    expect(call.result).toMatchObject({ content: [{ type: "text", text: "by hand" }], structuredContent: { text: "by hand" } });
    expect(gw.health().sessions).toBe(1);

    const deleted = await gw.fetch(new Request("http://localhost/mcp", { method: "DELETE", headers: session }));
    expect(deleted.status).toBe(200);
    expect(gw.health().sessions).toBe(0);
  });

  it("runs a 2026-07-28 tools/call with no session", async () => {
    const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
    const response = await post(
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "up__whoami", arguments: {}, _meta: meta } },
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "up__whoami" },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeNull();
    expect((await rpc(response)).result).toMatchObject({ content: [{ type: "text", text: modernFx.name }] });
  });
});
