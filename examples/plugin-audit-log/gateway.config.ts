/** Example config that loads the plugin by its package name (installed as a devDependency of the repo). */
import { fileURLToPath } from "node:url";
import { defineGateway } from "../../src/index.ts";

export default defineGateway({
  server: { port: 4445 },
  plugins: ["mcp-gateway-plugin-audit-log"],
  upstreams: {
    everything: {
      type: "stdio",
      command: process.execPath,
      args: [fileURLToPath(new URL("../../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url)), "stdio"],
    },
  },
});
