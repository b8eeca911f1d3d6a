// Config
export { defineGateway } from "./config/define.ts";
export { resolveConfig } from "./config/resolve.ts";
export type * from "./config/types.ts";

// Runtime
export { createGateway } from "./runtime/gateway.ts";
export type { Gateway, CreateGatewayOptions } from "./runtime/gateway.ts";
export type { HealthReport, UpstreamHealth } from "./runtime/health.ts";

// Plugins
export { definePlugin } from "./plugins/types.ts";
export type {
  CallError,
  GatewayPlugin,
  Hook,
  HookContext,
  HookName,
  HookPayloads,
  HookResult,
  PluginConditions,
  RequestHook,
  SessionEvent,
} from "./plugins/types.ts";

// Upstreams
export type { Upstream, UpstreamStatus, UpstreamState, UpstreamEvent, Caller } from "./upstreams/types.ts";

// Auth
export { defineAuthProvider } from "./auth/types.ts";
export type { AuthProvider, AuthResult, AuthFailureReason, Identity } from "./auth/types.ts";
export { jwtProvider } from "./auth/jwt.ts";
export type { JwtProviderOptions } from "./auth/jwt.ts";
export { mintToken } from "./auth/token.ts";

// Outbound network safety
export { createSafeFetch } from "./net/safe-fetch.ts";

// Errors
export { GatewayError, GatewayConfigError, JsonRpcCode } from "./errors.ts";
export type { GatewayErrorCode, ConfigIssue } from "./errors.ts";
