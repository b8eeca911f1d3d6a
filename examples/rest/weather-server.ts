/**
 * A stand-in for the Weather API that `weather.openapi.yaml` describes (bearer token "demo-token"), so the
 * example runs offline:
 *   node --import jiti/register examples/rest/weather-server.ts   # listens on 127.0.0.1:8787
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/** Start the fake API; `port` 0 picks a free one. */
export async function startWeatherApi(port = 8787): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" }).end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.headers.authorization !== "Bearer demo-token") return send(401, { error: "missing or wrong token" });
    const url = new URL(req.url ?? "/", "http://localhost");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const forecast = url.pathname.match(/^\/forecast\/([^/]+)$/);
    if (req.method === "GET" && forecast) {
      const days = Number(url.searchParams.get("days") ?? 3);
      const f = req.headers["x-units"] === "imperial";
      const city = decodeURIComponent(forecast[1]!);
      return send(200, {
        city,
        days: Array.from({ length: days }, (_, i) => ({ date: `2026-01-0${i + 1}`, high: f ? 50 + i : 10 + i, low: f ? 35 + i : 2 + i })),
      });
    }
    if (req.method === "POST" && url.pathname === "/alerts") return send(201, { id: "alert-1", ...JSON.parse(Buffer.concat(chunks).toString() || "{}") });
    if (req.method === "DELETE" && url.pathname === "/admin/reset") return send(204);
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = await startWeatherApi();
  console.error(`weather API on ${api.url}`);
}
