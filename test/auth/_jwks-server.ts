import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";

export interface JwksServer {
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  setKeys(keys: JWK[]): void;
  /** `"hang"` accepts requests and never answers; `"error"` answers 500. */
  setMode(mode: "serve" | "hang" | "error"): void;
  close(): Promise<void>;
}

/** A real JWKS endpoint on 127.0.0.1 with swappable keys (for rotation tests). */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let current = keys;
  let mode: "serve" | "hang" | "error" = "serve";
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (mode === "hang") return;
    if (mode === "error") {
      res.writeHead(500).end("boom");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: current }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests,
    setKeys: (next) => {
      current = next;
    },
    setMode: (next) => {
      mode = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
