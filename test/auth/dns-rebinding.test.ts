import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";

/** Raw HTTP with full control of Host and Origin (fetch would set Host itself). */
function post(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "dns", version: "1" } } });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "content-length": Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

let gw: Gateway;
let port: number;

beforeAll(async () => {
  gw = await createGateway({ log: { level: "silent" }, server: { host: "127.0.0.1", allowedOrigins: ["https://app.example.com"] } });
  port = Number(new URL((await gw.listen({ port: 0 })).url).port);
});
afterAll(() => gw?.close());

describe("DNS rebinding, Origin and Host checks (loopback-bound gateway)", () => {
  it.each([
    ["a rebinding domain", "rebind.attacker.example"],
    ["a rebinding domain with the gateway's port", "rebind.attacker.example:PORT"],
    ["a domain that starts like a loopback address", "127.0.0.1.attacker.example"],
    ["a domain that starts like localhost", "localhost.attacker.example"],
    ["a private IP", "192.168.1.10:PORT"],
  ])("refuses a Host header of %s with 403", async (_what, host) => {
    const response = await post(port, { host: host.replace("PORT", String(port)) });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: { message: "Forbidden: Host not allowed" } });
  });

  it.each(["127.0.0.1:PORT", "localhost:PORT", "LOCALHOST:PORT", "[::1]:PORT", "localhost"])("accepts the loopback Host %s", async (host) => {
    expect((await post(port, { host: host.replace("PORT", String(port)) })).status).toBe(200);
  });

  it.each([
    ["a foreign site", "https://evil.example"],
    ["a look-alike of the allowed origin", "https://app.example.com.evil.example"],
    ["the allowed host over another scheme", "http://app.example.com"],
    ["an opaque origin", "null"],
    ["an unparsable origin", "::::"],
  ])("refuses an Origin of %s with 403", async (_what, origin) => {
    const response = await post(port, { origin });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toMatchObject({ error: { message: "Forbidden: Origin not allowed" } });
  });

  it("accepts the configured origin and loopback origins", async () => {
    expect((await post(port, { origin: "https://app.example.com" })).status).toBe(200);
    expect((await post(port, { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await post(port, { origin: "http://127.0.0.1:5173" })).status).toBe(200);
  });
});
