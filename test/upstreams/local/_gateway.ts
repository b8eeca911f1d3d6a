import { createGateway, type Gateway, type GatewayConfig } from "../../../src/index.ts";

/** A gateway on 127.0.0.1 port 0 with the given config (logs silenced); `url` is its `/mcp` endpoint. */
export async function startGateway(config: GatewayConfig): Promise<{ gw: Gateway; url: string; close(): Promise<void> }> {
  const gw = await createGateway({ log: { level: "silent" }, ...config });
  const server = await gw.listen({ port: 0 });
  return {
    gw,
    url: `${server.url}/mcp`,
    close: async () => {
      await gw.close();
    },
  };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: number }> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: Error & { code?: number }) => error,
  );
}
