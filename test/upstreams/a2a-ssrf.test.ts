import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { startA2aAgent, type A2aAgentServer } from "../fixtures/a2a-agent.ts";
import { connectV1, firstText } from "../_helpers.ts";

/** A card server on 127.0.0.1 whose card sends the RPC endpoint to the cloud metadata address. */
let agent: A2aAgentServer;
let cardServer: Server;
let cardUrl: string;
let gw: Gateway;
let url: string;

beforeAll(async () => {
  agent = await startA2aAgent();
  const card = (await (await fetch(agent.cardUrl)).json()) as { supportedInterfaces: { url: string }[] };
  for (const entry of card.supportedInterfaces) entry.url = "http://169.254.169.254/agent/rpc";
  cardServer = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(card)));
  await new Promise<void>((resolve) => cardServer.listen(0, "127.0.0.1", resolve));
  cardUrl = `http://127.0.0.1:${(cardServer.address() as AddressInfo).port}/card.json`;
  gw = await createGateway({
    log: { level: "silent" },
    upstreams: {
      evil: { type: "a2a", url: cardUrl, restart: { maxRetries: 0 } },
      good: { type: "a2a", url: agent.cardUrl },
    },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(async () => {
  await gw?.close();
  cardServer?.closeAllConnections();
  await new Promise((resolve) => cardServer?.close(resolve));
  await agent?.close();
});

describe("A2A behind the SSRF guard", () => {
  it("refuses an agent card that points its endpoint at a blocked address, and keeps serving the others", async () => {
    const client = await connectV1(`${url}/mcp`);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("evil__echo");
      const outcome = await client.callTool({ name: "evil__echo", arguments: { message: "hi" } }).then(
        (r) => ({ error: r.isError ? firstText(r) : undefined, ok: !r.isError }),
        (e: Error) => ({ error: e.message, ok: false }),
      );
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toMatch(/169\.254\.169\.254|blocked|forbidden/i);
      expect(firstText(await client.callTool({ name: "good__echo", arguments: { message: "hi" } }))).toContain("hi");
    } finally {
      await client.close();
    }
  });
});
