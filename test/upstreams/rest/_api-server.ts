/**
 * A small HTTP API on 127.0.0.1 (port 0) for REST upstream tests: routes by `METHOD /path`, records every
 * request (method, URL, headers, body) and the highest number of requests in flight at once.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export type RouteHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface ApiServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly maxInFlight: number;
  /** Requests seen for one `METHOD /path` (path without query). */
  count(route: string): number;
  route(route: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/** Send `value` as JSON with `status`. */
export function json(res: ServerResponse, value: unknown, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));
}

export async function startApiServer(routes: Record<string, RouteHandler> = {}): Promise<ApiServer> {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once("close", () => inFlight--);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded = { method: req.method ?? "GET", url: new URL(req.url ?? "/", "http://127.0.0.1"), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
    requests.push(recorded);
    const handler = table.get(`${recorded.method} ${recorded.url.pathname}`);
    if (!handler) return json(res, { error: "no such route" }, 404);
    try {
      await handler(recorded, res);
    } catch (error) {
      if (!res.headersSent) json(res, { error: String(error) }, 599);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    count: (route) => requests.filter((r) => `${r.method} ${r.url.pathname}` === route).length,
    route: (route, handler) => void table.set(route, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
