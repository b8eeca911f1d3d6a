import { defineCommand } from "citty";
import { createGateway } from "../runtime/gateway.ts";
import { GatewayError } from "../errors.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError, onShutdown, parsePort } from "./shared.ts";
import { createRemoteTransport, describeUrl, parseHeaders, parseRemoteUrl, repeatedFlag, type RemoteKind } from "./remote-transport.ts";
import { runStdioBridge } from "./stdio-bridge.ts";
import { parseExpose, serveTranslated } from "./translate-serve.ts";

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

const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** `--reconnect`: how many reconnect attempts, `unlimited` (`Infinity`) or an integer ≥ 0. */
export function parseReconnectAttempts(value: string, flag = "--reconnect"): number {
  if (value === "unlimited") return Number.POSITIVE_INFINITY;
  const attempts = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(attempts)) throw new GatewayError("BAD_REQUEST", `${flag} must be an integer ≥ 0 or unlimited, got "${value}"`);
  return attempts;
}

/** `--reconnect-delay`: the first backoff delay in ms (a positive integer). */
export function parseReconnectDelay(value: string, flag = "--reconnect-delay"): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value.trim()) || ms <= 0) throw new GatewayError("BAD_REQUEST", `${flag} must be a positive number of milliseconds, got "${value}"`);
  return ms;
}

/** `--log-level` checked against the known levels. */
export function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new GatewayError("BAD_REQUEST", `--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  return value as LogLevel;
}

/** Flags as citty hands them over (a repeated string flag may arrive as an array). */
interface TranslateArgs {
  stdio?: string;
  connect?: string;
  "connect-sse"?: string;
  "connect-ws"?: string;
  expose: string;
  port: string;
  host: string;
  isolation: string;
  cors?: string;
  health: string;
  "keep-alive": string;
  "log-level": string;
  reconnect: string;
  "reconnect-delay": string;
  header?: string | string[];
}

/** `gateway translate`: a stdio server over SSE, streamable HTTP and WebSocket, or a remote server as stdio. */
export default defineCommand({
  meta: {
    name: "translate",
    description: [
      "Bridge one MCP server between transports.",
      '  stdio → network:  gateway translate --stdio "uvx mcp-server-git" --port 9000 --expose sse,streamable-http,ws',
      "  network → stdio:  gateway translate --connect https://host/mcp --header \"Authorization: Bearer $TOKEN\"",
      "                    gateway translate --connect-sse http://127.0.0.1:8000/sse | --connect-ws ws://127.0.0.1:9000/ws",
      "                    (reconnects with backoff when the remote drops: --reconnect <n|unlimited> --reconnect-delay <ms>)",
    ].join("\n"),
  },
  args: {
    stdio: { type: "string", description: 'Command line of a stdio server to serve, e.g. --stdio "npx -y @modelcontextprotocol/server-everything"' },
    connect: { type: "string", description: "Remote streamable HTTP endpoint to expose on stdin/stdout, e.g. --connect https://host/mcp" },
    "connect-sse": { type: "string", description: "Remote legacy SSE endpoint to expose on stdin/stdout, e.g. --connect-sse http://127.0.0.1:8000/sse" },
    "connect-ws": { type: "string", description: "Remote WebSocket endpoint to expose on stdin/stdout, e.g. --connect-ws ws://127.0.0.1:9000/ws" },
    reconnect: { type: "string", default: "unlimited", description: "With --connect*: reconnect attempts (exponential backoff) after the remote drops, an integer or unlimited; 0 = exit instead, e.g. --reconnect 10" },
    "reconnect-delay": { type: "string", default: "250", description: "With --connect*: first reconnect delay in ms, doubling (with jitter) up to 10 s, e.g. --reconnect-delay 1000" },
    header: { type: "string", description: 'Header for the remote side, repeatable, e.g. --header "Authorization: Bearer abc" --header "X-Team: a"' },
    expose: { type: "string", default: "sse,streamable-http,ws", description: "With --stdio: transports to serve, e.g. --expose streamable-http,ws. (all: /sse + /message(s), /mcp, /ws)" },
    port: { type: "string", default: "9000", description: "With --stdio: port to listen on (0 = any free port), e.g. --port 9000" },
    host: { type: "string", default: "127.0.0.1", description: "With --stdio: address to bind, e.g. --host 0.0.0.0" },
    isolation: { type: "string", default: "shared", description: "With --stdio: shared (one child for all clients) or per-session (one child per client session), e.g. --isolation per-session" },
    cors: { type: "string", description: "With --stdio: comma-separated browser origins allowed (CORS + origin check), e.g. --cors https://app.example" },
    health: { type: "string", default: "/health", description: "With --stdio: path of the health endpoint, e.g. --health /healthz" },
    "keep-alive": { type: "string", default: "15", description: "With --stdio: seconds between keep-alive pings on idle SSE and WebSocket connections, e.g. --keep-alive 30" },
    "log-level": { type: "string", default: "info", description: "silent, error, warn, info or debug (logs go to stderr), e.g. --log-level debug" },
  },
  async run({ args, rawArgs }) {
    let log = createLogger("info");
    try {
      const options = { ...(args as unknown as TranslateArgs), header: repeatedFlag(rawArgs, "header") };
      log = createLogger(parseLogLevel(options["log-level"]));
      const remotes = (["connect", "connect-sse", "connect-ws"] as const).filter((k) => options[k] !== undefined);
      if (remotes.length + (options.stdio === undefined ? 0 : 1) !== 1) {
        throw new GatewayError("BAD_REQUEST", "give exactly one of --stdio, --connect, --connect-sse or --connect-ws (see gateway translate --help)");
      }
      // The start-up line is always printed; --log-level governs the gateway's own logs.
      if (options.stdio !== undefined) await serveStdio(options, createLogger("info"));
      else await connectRemote(remotes[0]!, options, log);
    } catch (error) {
      exitWithError(error, log);
    }
  },
});

async function serveStdio(args: TranslateArgs, log: ReturnType<typeof createLogger>): Promise<void> {
  const [command, ...commandArgs] = splitCommand(args.stdio!);
  if (!command) throw new GatewayError("BAD_REQUEST", "--stdio needs a command");
  if (args.isolation !== "shared" && args.isolation !== "per-session") {
    throw new GatewayError("BAD_REQUEST", `--isolation must be shared or per-session, got "${args.isolation}"`);
  }
  const keepAlive = Number(args["keep-alive"]);
  if (!Number.isFinite(keepAlive) || keepAlive <= 0) throw new GatewayError("BAD_REQUEST", `--keep-alive must be a positive number of seconds, got "${args["keep-alive"]}"`);
  if (!args.health.startsWith("/")) throw new GatewayError("BAD_REQUEST", `--health must be a path starting with /, got "${args.health}"`);
  const expose = parseExpose(args.expose);
  const cors = args.cors ? args.cors.split(",").map((o) => o.trim()).filter(Boolean) : [];
  const port = parsePort(args.port) ?? 9000;
  const gateway = await createGateway(
    {
      // A bridge passes large messages through (the stdio side has no limit of its own).
      server: { host: args.host, port, allowedOrigins: cors, maxBodySize: 64 * 1024 * 1024 },
      log: { level: parseLogLevel(args["log-level"]) },
      // One upstream, exposed under its own names: the bridge is transparent.
      upstreams: { server: { type: "stdio", command, args: commandArgs, prefix: false, isolation: args.isolation } },
    },
    { keepAliveMs: keepAlive * 1000 },
  );
  const server = await serveTranslated(gateway, { expose, healthPath: args.health, cors, host: args.host, port });
  onShutdown(async () => {
    await server.close();
    await gateway.close();
  }, log);
  const where = [
    expose.has("streamable-http") ? `${server.url}/mcp (streamable HTTP)` : "",
    expose.has("sse") ? `${server.url}/sse (SSE)` : "",
    expose.has("ws") ? `${server.url.replace(/^http/, "ws")}/ws (WebSocket)` : "",
  ].filter(Boolean);
  log.success(`Serving "${command}" on ${where.join(", ")}; health at ${server.url}${args.health}`);
}

async function connectRemote(flag: "connect" | "connect-sse" | "connect-ws", args: TranslateArgs, log: ReturnType<typeof createLogger>): Promise<void> {
  const kind: RemoteKind = flag === "connect" ? "streamable-http" : flag === "connect-sse" ? "sse" : "ws";
  const url = parseRemoteUrl(kind, args[flag]!);
  const headers = parseHeaders(args.header);
  const reconnect = { maxAttempts: parseReconnectAttempts(args.reconnect), initialMs: parseReconnectDelay(args["reconnect-delay"]) };
  const bridge = runStdioBridge({ connect: () => createRemoteTransport(kind, url, headers), target: describeUrl(url), log, reconnect });
  const stop = async () => {
    await bridge.close();
  };
  onShutdown(stop, log);
  log.info(`bridging stdio to ${describeUrl(url)} (${kind})`);
  process.exit(await bridge.done);
}
