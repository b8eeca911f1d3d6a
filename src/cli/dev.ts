import { defineCommand } from "citty";
import { watchGatewayConfig } from "../config/load.ts";
import { createGateway, type Gateway } from "../runtime/gateway.ts";
import { describeError } from "../_utils/errors.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError, onShutdown, parsePort, serveArgs } from "./shared.ts";

/** `gateway dev`: serve and hot-reload the config on every save; a broken edit keeps the last good config. */
export default defineCommand({
  meta: {
    name: "dev",
    description: "Serve and hot-reload on config changes (e.g. gateway dev -c gateway.config.ts)",
  },
  args: serveArgs,
  async run({ args }) {
    const log = createLogger("info");
    let gateway: Gateway | undefined;
    try {
      const watcher = await watchGatewayConfig({
        cwd: args.cwd,
        configFile: args.config,
        onUpdate: (next) => {
          if (!gateway) return;
          gateway.reload(next).catch((error) => log.error(`reload failed, keeping the previous config: ${describeError(error)}`));
        },
        onError: (error) => log.error(`${error.message}\nKeeping the last good config.`),
      });
      gateway = await createGateway(watcher.config, { log });
      const server = await gateway.listen({ port: parsePort(args.port), host: args.host });
      onShutdown(async () => {
        await watcher.unwatch();
        await gateway?.close();
      }, log);
      log.success(`MCP gateway (dev) on ${server.url}${watcher.config.server.path}, watching ${watcher.file ?? "config"}`);
    } catch (error) {
      exitWithError(error, log);
    }
  },
});
