import type { ResolvedUpstream } from "../config/types.ts";
import type { Logger } from "../_utils/logger.ts";
import { A2aUpstream } from "./a2a-upstream.ts";
import { LocalUpstream } from "./local/local-upstream.ts";
import { McpUpstream } from "./mcp-upstream.ts";
import { PerSessionUpstream } from "./per-session.ts";
import { RestUpstream } from "./rest/rest-upstream.ts";
import type { Upstream } from "./types.ts";

export interface CreateUpstreamDeps {
  log: Logger;
  /** Implementation name/version the gateway presents to MCP upstreams. */
  clientInfo: { name: string; version: string };
  /** Private addresses outbound REST/A2A calls may reach (`network.allow`). */
  networkAllow: readonly string[];
  /** Whether a client session is still open (per-session upstreams end a session's connection with it). */
  isLiveSession: (id: string) => boolean;
}

/** The {@link Upstream} implementation for one resolved upstream config (not started). */
export function createUpstream(config: ResolvedUpstream, deps: CreateUpstreamDeps): Upstream {
  const { log, clientInfo, networkAllow } = deps;
  switch (config.type) {
    case "local":
      return new LocalUpstream({ config, log });
    case "a2a":
      return new A2aUpstream({ config, log, networkAllow });
    case "rest":
      return new RestUpstream({ config, log, networkAllow });
    default:
      return config.isolation === "per-session"
        ? new PerSessionUpstream({ config, log, clientInfo, isLiveSession: deps.isLiveSession })
        : new McpUpstream({ config, log, clientInfo });
  }
}
