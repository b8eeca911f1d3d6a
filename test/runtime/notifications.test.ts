import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { connectV1, connectV2, nextEvent, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

let gw: Gateway;
let url: string;
let upstream: LegacyHttpServer;

beforeAll(async () => {
  upstream = await startLegacyHttpServer({ name: "notify" });
  gw = await createGateway({ log: { level: "silent" }, upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

describe("notifications not tied to a request", () => {
  it("delivers resources/updated only to the 2025-era sessions that subscribed to the URI", async () => {
    const subscriber = await connectV1(`${url}/mcp`, "sub");
    const bystander = await connectV1(`${url}/mcp`, "other");
    let bystanderGot = 0;
    bystander.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
      bystanderGot++;
    });
    try {
      await subscriber.subscribeResource({ uri: "fixture://readme" });
      const updated = nextEvent<string>((resolve) =>
        subscriber.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
      );
      expect(await upstream.updateResource("fixture://readme")).toBe(1);
      expect(await updated).toBe("fixture://readme");
      expect(bystanderGot).toBe(0);
    } finally {
      await subscriber.close();
      await bystander.close();
    }
  });

  it("delivers resources/updated to a 2026-07-28 client on its subscriptions/listen stream", async () => {
    const client = await connectV2(`${url}/mcp`, "listener");
    try {
      // The gateway keeps the upstream subscription alive for a 2025-era subscriber; the modern client listens.
      const keeper = await connectV1(`${url}/mcp`, "keeper");
      await keeper.subscribeResource({ uri: "fixture://items/1" });
      const sub = await client.listen({ resourceSubscriptions: ["fixture://items/1"] });
      const updated = nextEvent<string>((resolve) =>
        client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params.uri)),
      );
      await upstream.updateResource("fixture://items/1");
      expect(await updated).toBe("fixture://items/1");
      await sub.close();
      await keeper.close();
    } finally {
      await client.close();
    }
  });

  it("subscribes upstream for a 2026-07-28 listen stream's resourceSubscriptions alone, and lets go when it closes", async () => {
    const client = await connectV2(`${url}/mcp`, "listen-only");
    try {
      const uri = "fixture://items/2";
      expect(await upstream.updateResource(uri)).toBe(0);
      const sub = await client.listen({ resourceSubscriptions: [uri] });
      const updated = nextEvent<string>((resolve) => client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params.uri)));
      // No 2025-era session holds the upstream subscription: the listen stream itself does.
      expect(await upstream.updateResource(uri)).toBe(1);
      expect(await updated).toBe(uri);
      await sub.close();
      await waitFor(async () => (await upstream.updateResource(uri)) === 0, 5000, "the upstream subscription to be released");
    } finally {
      await client.close();
    }
  });

  it("keeps the upstream subscription while any listen stream or session still wants the URI", async () => {
    const uri = "fixture://items/3";
    const [a, b] = await Promise.all([connectV2(`${url}/mcp`, "listen-a"), connectV2(`${url}/mcp`, "listen-b")]);
    const legacy = await connectV1(`${url}/mcp`, "legacy-sub");
    try {
      const subA = await a.listen({ resourceSubscriptions: [uri] });
      await b.listen({ resourceSubscriptions: [uri] });
      await legacy.subscribeResource({ uri });
      await subA.close();
      await legacy.unsubscribeResource({ uri });
      // b still listens: the upstream still sends, and b gets it.
      const updated = nextEvent<string>((resolve) => b.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params.uri)));
      expect(await upstream.updateResource(uri)).toBe(1);
      expect(await updated).toBe(uri);
      // b goes away without closing its subscription first: the stream's end releases it.
      await b.close();
      await waitFor(async () => (await upstream.updateResource(uri)) === 0, 5000, "the last subscriber's subscription to be released");
    } finally {
      await Promise.all([a.close(), b.close(), legacy.close()]);
    }
  });

  it("forwards upstream log messages to a session at or above the level it set", async () => {
    const client = await connectV1(`${url}/mcp`, "logs");
    try {
      await client.setLoggingLevel("debug");
      const logged = nextEvent<unknown>((resolve) =>
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => resolve(n.params.data)),
      );
      await client.callTool({ name: "up__echo", arguments: { text: "log me" } });
      expect(JSON.stringify(await logged)).toContain("log me");
    } finally {
      await client.close();
    }
  });

  it("answers ping itself", async () => {
    const client = await connectV1(`${url}/mcp`, "pinger");
    try {
      await expect(client.ping()).resolves.toEqual({});
    } finally {
      await client.close();
    }
  });
});

describe("session lifetime", () => {
  it("closes a 2025-era session that sent nothing for server.sessionIdleTimeout; the client then gets 404", async () => {
    const idle = await createGateway({
      log: { level: "silent" },
      server: { sessionIdleTimeout: 200 },
      upstreams: { up: { type: "streamable-http", url: upstream.url } },
    });
    const { url: base } = await idle.listen({ port: 0 });
    const transport = new V1HttpTransport(new URL(`${base}/mcp`));
    const client = new V1Client({ name: "idle", version: "1" });
    try {
      await client.connect(transport);
      expect(idle.stats().sessions).toBe(1);
      await waitFor(() => idle.stats().sessions === 0, 5000, "the idle session to be closed");
      expect(idle.stats().sessions).toBe(0);
      const response = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": transport.sessionId! },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(response.status).toBe(404);
    } finally {
      await client.close();
      await idle.close();
    }
  });
});

describe("after a reload replaces an upstream", () => {
  it("still delivers that upstream's notifications (the old listener goes, the new one stays)", async () => {
    const config = (timeout: number) => ({ log: { level: "silent" as const }, upstreams: { up: { type: "streamable-http" as const, url: upstream.url, timeout } } });
    const gateway = await createGateway(config(30_000));
    const { url: base } = await gateway.listen({ port: 0 });
    await gateway.reload(config(20_000));
    const client = new V1Client({ name: "after-reload", version: "1" });
    try {
      await client.connect(new V1HttpTransport(new URL(`${base}/mcp`)));
      await client.subscribeResource({ uri: "fixture://items/9" });
      const updated = nextEvent<string>((resolve) =>
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
      );
      await upstream.updateResource("fixture://items/9");
      expect(await updated).toBe("fixture://items/9");
    } finally {
      await client.close();
      await gateway.close();
    }
  });
});
