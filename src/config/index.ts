export { defineGateway } from "./define.ts";
export { interpolateEnv, type InterpolateEnvResult } from "./env.ts";
export {
  loadGatewayConfig,
  watchGatewayConfig,
  type GatewayConfigWatcher,
  type LoadedGatewayConfig,
  type LoadGatewayConfigOptions,
  type WatchGatewayConfigOptions,
} from "./load.ts";
export { resolveConfig, type ResolveConfigOptions } from "./resolve.ts";
export { GatewayConfigSchema } from "./schema.ts";
export type {
  A2aSkillMode,
  A2aUpstreamConfig,
  GatewayConfig,
  LogLevel,
  ResolvedA2aUpstream,
  ResolvedConfig,
  ResolvedRestartPolicy,
  ResolvedSseUpstream,
  ResolvedStdioUpstream,
  ResolvedStreamableHttpUpstream,
  ResolvedUpstream,
  ResolvedUpstreamCommon,
  ResolvedWebSocketUpstream,
  RestartPolicy,
  SseUpstreamConfig,
  StdioUpstreamConfig,
  StreamableHttpUpstreamConfig,
  UpstreamCommonConfig,
  UpstreamConfig,
  UpstreamIsolation,
  UpstreamProtocol,
  WebSocketUpstreamConfig,
} from "./types.ts";
