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

// Local entries (tools, prompts, resources declared in the config)
export { defineTool, definePrompt, defineResource } from "./upstreams/local/define.ts";
export type {
  LocalTool,
  LocalToolContext,
  LocalToolResult,
  LocalToolAnnotations,
  LocalPrompt,
  LocalPromptArgument,
  LocalPromptMessage,
  LocalPromptTemplate,
  LocalResource,
  LocalResourceContext,
  ComputedContent,
} from "./upstreams/local/define.ts";
export { LocalUpstream } from "./upstreams/local/local-upstream.ts";

// REST and OpenAPI APIs as tools
export { defineRestApi, defineRestTools } from "./upstreams/rest/define.ts";
export type { OperationKey, TypedRestTool } from "./upstreams/rest/define.ts";
export type {
  RestApiConfig,
  RestAuth,
  RestToolConfig,
  RestOpenApiConfig,
  RestOperationFilter,
  RestRetryConfig,
  RestRateLimitConfig,
  RestCircuitBreakerConfig,
  RestMethod,
  RestSchema,
} from "./upstreams/rest/types.ts";
export type { RestMetrics } from "./upstreams/rest/rest-upstream.ts";

// Auth
export { defineAuthProvider } from "./auth/types.ts";
export type { AuthProvider, AuthResult, AuthFailureReason, Identity } from "./auth/types.ts";
export { jwtProvider } from "./auth/jwt.ts";
export type { JwtProviderOptions } from "./auth/jwt.ts";
export { mintToken } from "./auth/token.ts";
export { apiKeyProvider, memoryApiKeyStore } from "./auth/api-keys.ts";
export type { ApiKeyStore, ApiKeyRecord, ApiKeyInput, CreatedApiKey, ApiKeyProviderOptions } from "./auth/api-keys.ts";
export { dbApiKeyStore } from "./auth/api-key-store-db.ts";
export { basicProvider, hashPassword } from "./auth/basic.ts";
export type { BasicProviderOptions } from "./auth/basic.ts";
export { createPolicy } from "./auth/policy.ts";
export type { AccessDecision, AccessRequest, Policy, PolicyConfig, PolicyRule, PolicyTarget, PolicyCondition } from "./auth/policy.ts";
export type { ResourceConfig } from "./auth/resource-metadata.ts";
export type { ForwardIdentityConfig } from "./auth/forward-identity.ts";
export { createSecretBox, secretBoxFromEnv } from "./auth/secret-box.ts";
export type { SecretBox, SecretKey } from "./auth/secret-box.ts";
export { maskSecrets } from "./_utils/mask.ts";

// Outbound network safety
export { createSafeFetch } from "./net/safe-fetch.ts";

// Errors
export { GatewayError, GatewayConfigError, JsonRpcCode } from "./errors.ts";
export type { GatewayErrorCode, ConfigIssue } from "./errors.ts";
