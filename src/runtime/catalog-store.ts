import { openSecrets } from "../admin/sealed.ts";
import type { SecretBox } from "../auth/secret-box.ts";
import type { ApiKeyStore } from "../auth/api-keys.ts";
import { dbApiKeyStore } from "../auth/api-key-store-db.ts";
import type { ResolvedConfig } from "../config/types.ts";
import { describeError } from "../_utils/errors.ts";
import type { EntryOverrides, NamedServerSpec } from "../registry/server-spec.ts";
import { openDatabase, type GatewayDatabase } from "../storage/database.ts";
import { createEntryRepository, type EntryOverrideRecord, type EntryRepository } from "../storage/entries.ts";
import { createMetricsRepository, createServerRepository, type EntryKind, type MetricsRepository, type ServerRepository } from "../storage/repository.ts";
import { createPromptVersionRepository, type PromptVersionRepository } from "../storage/prompt-versions.ts";
import { createUpstreamRepository, type UpstreamRecord, type UpstreamRepository } from "../storage/upstreams.ts";

/** What the admin API added at run time, as last read from the database. */
export interface RuntimeState {
  servers: NamedServerSpec[];
  entries: EntryOverrideRecord[];
  upstreams: UpstreamRecord[];
  /** Run-time upstreams whose stored credentials could not be opened (left out, with the reason). */
  unreadable: { name: string; reason: string }[];
}

/** The registry database and its repositories. */
export interface CatalogStore {
  readonly db: GatewayDatabase;
  readonly servers: ServerRepository;
  readonly entries: EntryRepository;
  readonly upstreams: UpstreamRepository;
  readonly metrics: MetricsRepository;
  readonly prompts: PromptVersionRepository;
  readonly apiKeys: ApiKeyStore;
  load(): Promise<RuntimeState>;
  /** Changes whenever any run-time row changes (another gateway's write included): cheap enough to poll. */
  version(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Opens the registry database when something needs it: the admin API is enabled, or `storage.db` is set.
 * Without either, the gateway is purely config-driven and touches no disk.
 */
export async function openCatalogStore(config: ResolvedConfig, options: { cwd?: string; secretBox?: SecretBox } = {}): Promise<CatalogStore | undefined> {
  const cwd = options.cwd ?? process.cwd();
  if (!config.admin.enabled && config.storage.db === undefined && !config.auth.apiKeys) return undefined;
  const db = await openDatabase(config.storage.db, { cwd });
  const store: CatalogStore = {
    db,
    servers: createServerRepository(db),
    entries: createEntryRepository(db),
    upstreams: createUpstreamRepository(db),
    metrics: createMetricsRepository(db),
    prompts: createPromptVersionRepository(db),
    apiKeys: dbApiKeyStore(db),
    async load() {
      const [servers, entries, stored] = await Promise.all([store.servers.list(), store.entries.list(), store.upstreams.list()]);
      const upstreams: UpstreamRecord[] = [];
      const unreadable: RuntimeState["unreadable"] = [];
      for (const record of stored) {
        try {
          upstreams.push({ ...record, config: openSecrets(record.config, options.secretBox) });
        } catch (error) {
          unreadable.push({ name: record.name, reason: describeError(error) });
        }
      }
      return {
        servers: servers.map((s) => ({ ...(s.spec as Omit<NamedServerSpec, "name" | "source">), enabled: s.enabled, name: s.name, source: "api" as const })),
        entries,
        upstreams,
        unreadable,
      };
    },
    version: () =>
      db.transaction(async (tx) => {
        const { rows = [] } = await tx.sql`SELECT
          (SELECT COUNT(*) FROM servers) AS s, (SELECT MAX(updated_at) FROM servers) AS su,
          (SELECT COUNT(*) FROM entries) AS e, (SELECT MAX(updated_at) FROM entries) AS eu,
          (SELECT COUNT(*) FROM upstreams) AS u, (SELECT MAX(updated_at) FROM upstreams) AS uu,
          (SELECT COUNT(*) FROM prompt_versions) AS p`;
        return JSON.stringify(rows[0] ?? {});
      }),
    close: () => db.close(),
  };
  return store;
}

const LIST_OF_KIND: Record<EntryKind, keyof EntryOverrides> = { tool: "tools", prompt: "prompts", resource: "resources" };

/** Config overrides with the run-time ones layered on top (a run-time field wins over the config's). */
export function mergeEntryOverrides(config: EntryOverrides, records: readonly EntryOverrideRecord[]): EntryOverrides {
  if (records.length === 0) return config;
  const merged: Required<EntryOverrides> = { tools: { ...config.tools }, prompts: { ...config.prompts }, resources: { ...config.resources } };
  for (const record of records) {
    const list = merged[LIST_OF_KIND[record.kind]];
    const current = list[record.name] ?? {};
    list[record.name] = {
      ...current,
      ...(record.description === undefined ? {} : { description: record.description }),
      ...(record.annotations === undefined ? {} : { annotations: { ...current.annotations, ...record.annotations } }),
      tags: [...new Set([...(current.tags ?? []), ...record.tags])],
      enabled: current.enabled === false ? false : record.enabled,
    };
  }
  return merged;
}
