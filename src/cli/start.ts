import { defineCommand } from "citty";
import { loadGatewayConfig } from "../config/load.ts";
import { createGateway } from "../runtime/gateway.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError, onShutdown, parsePort, serveArgs } from "./shared.ts";

/** `gateway start`: load the config once and serve it. */
export default defineCommand({
  meta: {
    name: "start",
    description: "Serve the gateway from a config file (e.g. gateway start -c gateway.config.ts --port 4444)",
  },
  args: serveArgs,
  async run({ args }) {
    const bootLog = createLogger("info");
    try {
      const { config, file } = await loadGatewayConfig({ cwd: args.cwd, configFile: args.config });
      const log = createLogger(config.log.level);
      const gateway = await createGateway(config, { log });
      const server = await gateway.listen({ port: parsePort(args.port), host: args.host });
      onShutdown(() => gateway.close(), log);
      bootLog.success(`MCP gateway on ${server.url}${config.server.path} (config: ${file ?? "defaults"})`);
    } catch (error) {
      exitWithError(error, bootLog);
    }
  },
});
