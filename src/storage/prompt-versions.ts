import { GatewayError } from "../errors.ts";
import type { GatewayDatabase } from "./database.ts";
import { fromSqlTimestamp, isUniqueViolation } from "./dialect.ts";

/** One stored template of a local prompt. Version numbers start at 1 (0 is the config file's template). */
export interface PromptVersion {
  prompt: string;
  version: number;
  /** A Liquid template string, or the messages array, as given. */
  template: unknown;
  createdAt: string;
}

/** Append-only history of run-time prompt templates (table `prompt_versions`): the newest version is in effect. */
export interface PromptVersionRepository {
  /** Oldest first. */
  list(prompt: string): Promise<PromptVersion[]>;
  latest(prompt: string): Promise<PromptVersion | undefined>;
  get(prompt: string, version: number): Promise<PromptVersion | undefined>;
  /** Stores the next version number. */
  add(prompt: string, template: unknown): Promise<PromptVersion>;
  /** Every prompt's newest version. */
  latestAll(): Promise<PromptVersion[]>;
}

type Row = Record<string, unknown>;

const toVersion = (row: Row): PromptVersion => ({
  prompt: String(row.prompt_name),
  version: Number(row.version),
  template: JSON.parse(String(row.template)),
  createdAt: fromSqlTimestamp(row.created_at) ?? "",
});

/** Creates the prompt version repository over an open gateway database. */
export function createPromptVersionRepository(gdb: GatewayDatabase): PromptVersionRepository {
  return {
    list: (prompt) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM prompt_versions WHERE prompt_name = ${prompt} ORDER BY version`;
        return rows.map(toVersion);
      }),
    latest: (prompt) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM prompt_versions WHERE prompt_name = ${prompt} ORDER BY version DESC LIMIT 1`;
        return rows[0] ? toVersion(rows[0]) : undefined;
      }),
    get: (prompt, version) =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT * FROM prompt_versions WHERE prompt_name = ${prompt} AND version = ${version}`;
        return rows[0] ? toVersion(rows[0]) : undefined;
      }),
    add: (prompt, template) =>
      gdb
        .transaction(async (db) => {
          const { rows = [] } = await db.sql`SELECT MAX(version) AS v FROM prompt_versions WHERE prompt_name = ${prompt}`;
          const version = Number(rows[0]?.v ?? 0) + 1;
          const inserted = await db.sql`INSERT INTO prompt_versions (prompt_name, version, template)
            VALUES (${prompt}, ${version}, ${JSON.stringify(template)}) RETURNING *`;
          return toVersion(inserted.rows![0]!);
        })
        .catch((error: unknown) => {
          // Two gateways writing the same prompt at once: the loser retries through the API.
          if (isUniqueViolation(error)) throw new GatewayError("CONFLICT", `Prompt "${prompt}" was changed concurrently; retry`, { status: 409 });
          throw error;
        }),
    latestAll: () =>
      gdb.transaction(async (db) => {
        const { rows = [] } = await db.sql`SELECT p.* FROM prompt_versions p
          JOIN (SELECT prompt_name, MAX(version) AS v FROM prompt_versions GROUP BY prompt_name) m
          ON p.prompt_name = m.prompt_name AND p.version = m.v ORDER BY p.prompt_name`;
        return rows.map(toVersion);
      }),
  };
}
