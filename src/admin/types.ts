import type { SecretBox } from "../auth/secret-box.ts";
import type { ResolvedConfig } from "../config/types.ts";
import type { Catalog } from "../registry/catalog.ts";
import type { EntryOverrides } from "../registry/server-spec.ts";
import type { CatalogViews } from "../registry/views.ts";
import type { CatalogStore } from "../runtime/catalog-store.ts";
import type { MetricsRecorder } from "../runtime/metrics.ts";
import type { UpstreamStatus } from "../upstreams/types.ts";

/** What the admin API reads from and does to a running gateway. */
export interface AdminDeps {
  store: CatalogStore;
  /** The merged catalog of every connected upstream, before any override. */
  catalog(): Catalog;
  views: CatalogViews;
  /** Entry overrides in effect: config `entries` with the run-time ones layered on top. */
  overrides(): EntryOverrides;
  /** The effective config: the config file plus upstreams added at run time. */
  config(): ResolvedConfig;
  /** Names of the upstreams and servers declared in the config file (read-only through the API). */
  declared(): { upstreams: ReadonlySet<string>; servers: ReadonlySet<string> };
  upstreamStatus(name: string): UpstreamStatus | undefined;
  /** Re-read the run-time state from the store and apply it (views, upstreams); resolves once applied. */
  apply(): Promise<void>;
  /** Validate a run-time upstream definition; throws an `InputError` naming the field. */
  checkUpstream(name: string, raw: unknown): Promise<void>;
  metrics: MetricsRecorder;
  /** Encrypts credentials of run-time upstreams at rest; without it, configs holding credentials are refused. */
  secretBox?: SecretBox;
  /**
   * A prompt declared in the config file, by exposed name: `key` is its name in the history table, `set` installs a
   * template in the running prompt (throws a 400 GatewayError when the engine refuses it).
   */
  localPrompt(name: string): { key: string; configTemplate(): unknown; set(template: unknown): void } | undefined;
  /** Policy dry run (see `gateway explain`). */
  explain(who: { token?: string; claims?: Record<string, unknown> }, method: string, name?: string, server?: string): Promise<unknown>;
}

/** How the admin API masks stored configs: secret-looking keys, and every header and environment value. */
export const STORED_CONFIG = { allValuesOf: ["headers", "env"] } as const;
