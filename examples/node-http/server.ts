/**
 * Embed the gateway in a plain `node:http` server next to your own routes:
 *   node --import jiti/register examples/node-http/server.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
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

/** Start the server; everything that is not /status is handled by the gateway (/mcp, /sse, /health). */
export async function start(port = 3001): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = await createGateway(config);
  const server = createServer((req, res) => {
    if (req.url === "/status") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, upstreams: gateway.health().status }));
      return;
    }
    void gateway.handler(req, res);
  });
  server.listen(port, "127.0.0.1");
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
  console.log(`node:http server on ${url}, MCP endpoint ${url}/mcp`);
  process.once("SIGINT", () => void close().then(() => process.exit(0)));
  process.once("SIGTERM", () => void close().then(() => process.exit(0)));
}
