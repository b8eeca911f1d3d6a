import { defineCommand } from "citty";
import { GatewayError } from "../errors.ts";
import { createLogger } from "../_utils/logger.ts";
import { createRemoteTransport, describeUrl, parseHeaders, parseRemoteUrl, repeatedFlag, type RemoteKind } from "./remote-transport.ts";
import { exitWithError, onShutdown } from "./shared.ts";
import { runStdioBridge } from "./stdio-bridge.ts";
import { parseLogLevel, parseReconnectDelay } from "./translate.ts";

/** The settings of `gateway wrapper` after flags and environment are merged (flags win). */
export interface WrapperSettings {
  url: URL;
  kind: RemoteKind;
  headers: Record<string, string>;
  timeoutMs: number;
  reconnectAttempts: number;
  reconnectDelayMs: number;
  logLevel: ReturnType<typeof parseLogLevel>;
}

/** Merge flags with `MCP_GATEWAY_URL`, `MCP_GATEWAY_TOKEN`, `MCP_TIMEOUT`, `MCP_GATEWAY_TRANSPORT`, `MCP_RECONNECT_ATTEMPTS`, `MCP_RECONNECT_DELAY`, `MCP_LOG_LEVEL`. */
export function resolveWrapperSettings(args: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): WrapperSettings {
  const pick = (flag: string, name: string) => (typeof args[flag] === "string" ? (args[flag] as string) : env[name]);
  const rawUrl = pick("url", "MCP_GATEWAY_URL");
  if (!rawUrl) throw new GatewayError("BAD_REQUEST", "no gateway URL: pass --url or set MCP_GATEWAY_URL");
  const transport = pick("transport", "MCP_GATEWAY_TRANSPORT") ?? "auto";
  const kind: RemoteKind =
    transport === "auto" ? guessKind(rawUrl) : transport === "ws" || transport === "sse" || transport === "streamable-http" ? transport : invalid("--transport", transport, "auto, streamable-http, sse or ws");
  const headers = parseHeaders(args.header as string | string[] | undefined);
  const token = pick("token", "MCP_GATEWAY_TOKEN");
  if (token) headers.authorization = `Bearer ${token}`;
  const timeout = Number(pick("timeout", "MCP_TIMEOUT") ?? "120");
  if (!Number.isFinite(timeout) || timeout < 0) invalid("--timeout", String(pick("timeout", "MCP_TIMEOUT")), "seconds, 0 = none");
  const attempts = Number(pick("reconnect", "MCP_RECONNECT_ATTEMPTS") ?? "5");
  if (!Number.isInteger(attempts) || attempts < 0) invalid("--reconnect", String(pick("reconnect", "MCP_RECONNECT_ATTEMPTS")), "an integer ≥ 0");
  const reconnectDelayMs = parseReconnectDelay(pick("reconnect-delay", "MCP_RECONNECT_DELAY") ?? "250");
  return { url: parseRemoteUrl(kind, rawUrl), kind, headers, timeoutMs: timeout * 1000, reconnectAttempts: attempts, reconnectDelayMs, logLevel: parseLogLevel(pick("log-level", "MCP_LOG_LEVEL") ?? "warn") };
}

function guessKind(url: string): RemoteKind {
  if (/^wss?:/i.test(url) || /\/ws\/?(\?|$)/.test(url)) return "ws";
  if (/\/sse\/?(\?|$)/.test(url)) return "sse";
  return "streamable-http";
}

function invalid(flag: string, value: string, expected: string): never {
  throw new GatewayError("BAD_REQUEST", `${flag} must be ${expected}, got "${value}"`);
}

/** `gateway wrapper`: a stdio MCP server fronting a (remote) gateway or virtual server, for desktop clients. */
export default defineCommand({
  meta: {
    name: "wrapper",
    description: [
      "Stdio MCP server that fronts a gateway (or one of its virtual servers) for desktop clients.",
      "  gateway wrapper --url http://127.0.0.1:4444/servers/dev/mcp --token $TOKEN",
      "  MCP_GATEWAY_URL=http://127.0.0.1:4444/mcp MCP_GATEWAY_TOKEN=... gateway wrapper",
    ].join("\n"),
  },
  args: {
    url: { type: "string", description: "Gateway endpoint (env MCP_GATEWAY_URL), e.g. --url http://127.0.0.1:4444/servers/dev/mcp (/sse and /ws URLs work too)" },
    token: { type: "string", description: "Bearer token sent as Authorization (env MCP_GATEWAY_TOKEN), e.g. --token $TOKEN" },
    header: { type: "string", description: 'Extra header, repeatable, e.g. --header "X-Team: a"' },
    transport: { type: "string", description: "auto, streamable-http, sse or ws (env MCP_GATEWAY_TRANSPORT); auto guesses from the URL, e.g. --transport ws. Default auto" },
    timeout: { type: "string", description: "Seconds a request may go without an answer or progress, 0 = none (env MCP_TIMEOUT), e.g. --timeout 300. Default 120" },
    reconnect: { type: "string", description: "Reconnect attempts (with backoff) when the gateway is unreachable or drops, 0 = exit on a drop (env MCP_RECONNECT_ATTEMPTS), e.g. --reconnect 10. Default 5" },
    "reconnect-delay": { type: "string", description: "First reconnect delay in ms, doubling (with jitter) up to 10 s (env MCP_RECONNECT_DELAY), e.g. --reconnect-delay 1000. Default 250" },
    "log-level": { type: "string", description: "silent, error, warn, info or debug, to stderr (env MCP_LOG_LEVEL), e.g. --log-level info. Default warn" },
  },
  async run({ args, rawArgs }) {
    let log = createLogger("warn");
    try {
      const settings = resolveWrapperSettings({ ...args, header: repeatedFlag(rawArgs, "header") });
      log = createLogger(settings.logLevel);
      const bridge = runStdioBridge({
        connect: () => createRemoteTransport(settings.kind, settings.url, settings.headers),
        target: describeUrl(settings.url),
        log,
        timeoutMs: settings.timeoutMs,
        reconnect: { maxAttempts: settings.reconnectAttempts, initialMs: settings.reconnectDelayMs },
        connectAttempts: settings.reconnectAttempts,
      });
      onShutdown(() => bridge.close(), log);
      log.info(`wrapping ${describeUrl(settings.url)} (${settings.kind}) as stdio`);
      process.exit(await bridge.done);
    } catch (error) {
      exitWithError(error, log);
    }
  },
});
