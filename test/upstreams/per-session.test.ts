import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";

let gw: Gateway;
let url: string;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function pidOf(client: Client | V1Client): Promise<number> {
  const result = await client.callTool({ name: "iso__pid", arguments: {} });
  return Number((result.content as { text: string }[])[0]!.text);
}

beforeAll(async () => {
  const stdio = stdioServerCommand({ name: "iso" });
  gw = await createGateway({
    log: { level: "silent" },
    upstreams: { iso: { type: "stdio", command: stdio.command, args: stdio.args, isolation: "per-session" } },
  });
  url = (await gw.listen({ port: 0 })).url;
});

afterAll(() => gw?.close());

describe("isolation: per-session", () => {
  it("gives each legacy session its own child process and kills it when the session ends", async () => {
    const a = new V1Client({ name: "a", version: "1" });
    const b = new V1Client({ name: "b", version: "1" });
    const ta = new V1HttpTransport(new URL(`${url}/mcp`));
    await a.connect(ta);
    await b.connect(new V1HttpTransport(new URL(`${url}/mcp`)));
    const [pa1, pb] = await Promise.all([pidOf(a), pidOf(b)]);
    const pa2 = await pidOf(a);
    expect(pa1).toBe(pa2);
    expect(pa1).not.toBe(pb);
    expect(pa1).not.toBe(process.pid);
    await ta.terminateSession();
    await a.close();
    await waitFor(() => !alive(pa1));
    expect(alive(pb)).toBe(true);
    await b.close();
  });

  it("gives a stateless 2026-07-28 request a connection for the duration of the call only", async () => {
    const client = new Client({ name: "m", version: "1" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    expect(client.getProtocolEra()).toBe("modern");
    const pid = await pidOf(client);
    await waitFor(() => !alive(pid));
    const next = await pidOf(client);
    expect(next).not.toBe(pid);
    await client.close();
  });
});
