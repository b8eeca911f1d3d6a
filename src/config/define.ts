import type { GatewayConfig } from "./types.ts";

/**
 * Identity helper that types a config file's default export.
 *
 * @example
 * ```ts
 * // gateway.config.ts
 * import { defineGateway } from "mcp-gateway-kit";
 *
 * export default defineGateway({
 *   server: { port: 4444 },
 *   upstreams: {
 *     fs: { type: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem", "."] },
 *     search: { type: "streamable-http", url: "https://search.example.com/mcp", headers: { Authorization: "Bearer ${env.SEARCH_TOKEN}" } },
 *   },
 * });
 * ```
 */
export function defineGateway(config: GatewayConfig): GatewayConfig {
  return config;
}
