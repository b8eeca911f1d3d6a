/**
 * Embed the gateway in an existing Express app, under /mcp-gw:
 *   node --import jiti/register examples/express/server.ts
 * MCP clients then connect to http://127.0.0.1:3000/mcp-gw/mcp
 */
import express from "express";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { createGateway, defineGateway } from "../../src/index.ts";

export const config = defineGateway({
  log: { level: "warn" },
  upstreams: {
    everything: {
      type: "stdio",
      command: process.execPath,
      args: [fileURLToPath(new URL("../../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url)), "stdio"],
    },
  },
});

/** Start the app; resolves with its base URL and a close function that also stops the gateway. */
export async function start(port = 3000): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = await createGateway(config);
  const app = express();
  app.get("/", (_req, res) => {
    res.json({ hello: "an existing Express app", mcp: "/mcp-gw/mcp" });
  });
  app.use("/mcp-gw", gateway.handler);
  const server = app.listen(port, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url, close } = await start();
  console.log(`Express app on ${url}, MCP endpoint ${url}/mcp-gw/mcp`);
  process.once("SIGINT", () => void close().then(() => process.exit(0)));
  process.once("SIGTERM", () => void close().then(() => process.exit(0)));
}
