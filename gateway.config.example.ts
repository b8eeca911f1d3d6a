import { defineGateway } from "./src/index.ts";

/**
 * Example config: runs offline right after `npm ci`.
 * `everything` is the MCP reference server (a devDependency) started as a child process.
 */
export default defineGateway({
  server: { host: "127.0.0.1", port: 4444 },
  upstreams: {
    everything: {
      type: "stdio",
      command: process.execPath,
      args: ["node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"],
    },
    // search: { type: "streamable-http", url: "http://127.0.0.1:9000/mcp", headers: { Authorization: "Bearer ${env.SEARCH_TOKEN}" } },
    // legacy: { type: "sse", url: "http://127.0.0.1:9100/sse" },
  },
});
