import { createGateway, definePlugin, type Gateway } from "../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

/**
 * The gateway both fast-path suites compare paths on: one SDK v1 HTTP upstream (`up__*`) and a plugin that blocks
 * `up__add`, listening on 127.0.0.1; `base` is its URL without a path.
 */
export async function startFastPathGateway(name: string): Promise<{ upstream: LegacyHttpServer; gw: Gateway; base: string }> {
  const upstream = await startLegacyHttpServer({ name });
  const blocker = definePlugin({ name: "blocker", when: { names: ["up__add"] }, hooks: { "tools/call:before": () => ({ block: "no adding" }) } });
  const gw = await createGateway({ log: { level: "silent" }, plugins: [blocker], upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  return { upstream, gw, base: (await gw.listen({ port: 0 })).url };
}
