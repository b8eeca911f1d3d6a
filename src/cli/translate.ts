import { defineCommand } from "citty";
import { createGateway } from "../runtime/gateway.ts";
import { GatewayError } from "../errors.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError, onShutdown, parsePort } from "./shared.ts";

/** Split a command line into argv, honouring single and double quotes and backslash escapes (no shell). */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === "\\" && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = "";
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote) throw new GatewayError("BAD_REQUEST", `unterminated ${quote} quote in --stdio command`);
  if (started) out.push(current);
  return out;
}

/** `gateway translate --stdio "<cmd>"`: serve one stdio MCP server over streamable HTTP (/mcp) and SSE (/sse). */
export default defineCommand({
  meta: {
    name: "translate",
    description: 'Serve a stdio MCP server over streamable HTTP and SSE (e.g. gateway translate --stdio "uvx mcp-server-git" --port 9000)',
  },
  args: {
    stdio: { type: "string", required: true, description: 'Command line of the stdio server, e.g. --stdio "npx -y @modelcontextprotocol/server-everything"' },
    port: { type: "string", default: "9000", description: "Port to listen on (0 = any free port). Default 9000" },
    host: { type: "string", default: "127.0.0.1", description: "Address to bind. Default 127.0.0.1" },
    isolation: { type: "string", default: "shared", description: "shared (one child for all clients) or per-session (one child per client session)" },
    cors: { type: "string", description: "Comma-separated browser origins allowed besides loopback, e.g. --cors https://app.example" },
    "log-level": { type: "string", default: "info", description: "silent, error, warn, info or debug" },
  },
  async run({ args }) {
    const log = createLogger("info");
    try {
      const [command, ...commandArgs] = splitCommand(args.stdio);
      if (!command) throw new GatewayError("BAD_REQUEST", "--stdio needs a command");
      if (args.isolation !== "shared" && args.isolation !== "per-session") {
        throw new GatewayError("BAD_REQUEST", `--isolation must be shared or per-session, got "${args.isolation}"`);
      }
      const gateway = await createGateway({
        server: {
          host: args.host,
          port: parsePort(args.port) ?? 9000,
          allowedOrigins: args.cors ? args.cors.split(",").map((o) => o.trim()).filter(Boolean) : [],
        },
        log: { level: args["log-level"] as "info" },
        // One upstream, exposed under its own names: the bridge is transparent.
        upstreams: { server: { type: "stdio", command, args: commandArgs, prefix: false, isolation: args.isolation } },
      });
      const server = await gateway.listen();
      onShutdown(() => gateway.close(), log);
      log.success(`Serving "${command}" on ${server.url}/mcp (streamable HTTP) and ${server.url}/sse (SSE); health at ${server.url}/health`);
    } catch (error) {
      exitWithError(error, log);
    }
  },
});
