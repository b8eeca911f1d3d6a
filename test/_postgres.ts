import pg from "pg";

/** The PostgreSQL server tests create and drop their throwaway databases on (trust auth on 127.0.0.1 by default). */
export const POSTGRES_ADMIN_URL = process.env.GATEWAY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Run `fn` on a fresh connection to {@link POSTGRES_ADMIN_URL}, closed afterwards; rejects when it is unreachable. */
export async function withPostgresAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
