import type { ArgsDef } from "citty";
import { GatewayConfigError, GatewayError } from "../errors.ts";
import type { Logger } from "../_utils/logger.ts";

/** Flags shared by `start` and `dev`. */
export const serveArgs = {
  config: { type: "string", description: "Config file (gateway.config.ts|mjs|js|json). Default: ./gateway.config.*", alias: "c" },
  cwd: { type: "string", description: "Directory to look for the config in. Default: current directory" },
  port: { type: "string", description: "Port to listen on (overrides server.port), e.g. --port 4444" },
  host: { type: "string", description: "Host to bind (overrides server.host). Default 127.0.0.1" },
} as const satisfies ArgsDef;

/** Parse `--port` strictly: an integer 0..65535 or undefined. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GatewayError("BAD_REQUEST", `--port must be an integer 0..65535, got "${value}"`);
  return port;
}

/** Print a readable message for expected errors (config, startup) and exit 1; never a stack for those. */
export function exitWithError(error: unknown, log: Pick<Logger, "error">): never {
  if (error instanceof GatewayConfigError || error instanceof GatewayError) log.error(error.message);
  else log.error(error);
  process.exit(1);
}

/** Close `close` once on SIGINT/SIGTERM (children are killed by it), then exit. */
export function onShutdown(close: () => Promise<void>, log: Pick<Logger, "info">): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void close().finally(() => process.exit(0));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
