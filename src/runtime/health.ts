import type { ResolvedUpstream } from "../config/types.ts";
import type { Catalog } from "../registry/catalog.ts";
import type { Upstream, UpstreamStatus } from "../upstreams/types.ts";
import { RestUpstream, type RestMetrics } from "../upstreams/rest/rest-upstream.ts";

export interface UpstreamHealth extends Omit<UpstreamStatus, "since"> {
  /** REST APIs: call counters, circuit breaker state, OAuth2 token requests. */
  rest?: RestMetrics;
  type: ResolvedUpstream["type"];
  enabled: boolean;
  since?: string;
  tools: number;
  prompts: number;
  resources: number;
}

/** `GET /health`: `ok` when every enabled upstream is connected, `degraded` when some are, `down` when none is. */
export interface HealthReport {
  status: "ok" | "degraded" | "down";
  upstreams: Record<string, UpstreamHealth>;
  sessions: number;
  conflicts: readonly string[];
  /** Resource URIs two upstreams both offer (the first one serves them). */
  shadowed: readonly string[];
}

/** Build the health report (no secrets: only names, states and counts). */
export function healthReport(
  configs: readonly ResolvedUpstream[],
  upstreams: ReadonlyMap<string, Upstream>,
  catalog: Catalog,
  sessions: number,
): HealthReport {
  const count = (map: ReadonlyMap<string, { upstream: string }>, name: string) => {
    let n = 0;
    for (const entry of map.values()) if (entry.upstream === name) n++;
    return n;
  };
  const report: Record<string, UpstreamHealth> = {};
  let connected = 0;
  let enabled = 0;
  for (const config of configs) {
    const upstream = upstreams.get(config.name);
    const status = upstream?.status();
    if (config.enabled) enabled++;
    if (status?.state === "connected") connected++;
    report[config.name] = {
      type: config.type,
      enabled: config.enabled,
      state: status?.state ?? "closed",
      restarts: status?.restarts ?? 0,
      ...(status?.era ? { era: status.era } : {}),
      ...(status?.protocolVersion ? { protocolVersion: status.protocolVersion } : {}),
      ...(status?.lastError ? { lastError: status.lastError } : {}),
      ...(status ? { since: new Date(status.since).toISOString() } : {}),
      tools: count(catalog.tools, config.name),
      ...(upstream instanceof RestUpstream ? { rest: upstream.metrics() } : {}),
      prompts: count(catalog.prompts, config.name),
      resources: count(catalog.resources, config.name),
    };
  }
  const status = connected === enabled ? "ok" : connected > 0 ? "degraded" : "down";
  return { status, upstreams: report, sessions, conflicts: catalog.conflicts, shadowed: catalog.shadowed };
}
