// Starts one fixture upstream in its own process for the benchmark and prints its URL on stdout.
import { startLegacyHttpServer, startModernHttpServer } from "../test/fixtures/servers.ts";

const kind = process.argv[2] ?? "legacy";
const server = kind === "modern" ? await startModernHttpServer({ name: "bench" }) : await startLegacyHttpServer({ name: "bench" });
process.stdout.write(`${server.url}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
