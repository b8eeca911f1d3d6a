import * as v from "valibot";
import { defineGateway, definePrompt, defineResource, defineTool } from "./src/index.ts";

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
  // Local entries, served in process next to the upstreams (docs/local-entries.md).
  tools: {
    now: defineTool({
      description: "The current date and time in a time zone",
      input: v.object({ timeZone: v.optional(v.string(), "UTC") }),
      run: ({ timeZone }) => new Date().toLocaleString("en-GB", { timeZone, timeZoneName: "short" }),
    }),
  },
  prompts: {
    review: definePrompt({
      description: "Ask for a code review",
      arguments: [{ name: "language", required: true }, { name: "focus" }],
      template: "Review the following {{ language }} code.{% if focus %} Pay attention to {{ focus }}.{% endif %}",
    }),
  },
  resources: {
    readme: defineResource({ file: "README.md", allowedRoot: ".", description: "This project's README" }),
  },
});
