import type { Client } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../src/index.ts";
import { connectV1, connectV2, firstText, isAlive, waitFor } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";

let gw: Gateway;
let url: string;

async function pidOf(client: Client | V1Client): Promise<number> {
  return Number(firstText(await client.callTool({ name: "iso__pid", arguments: {} })));
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
    const ta = new V1HttpTransport(new URL(`${url}/mcp`));
    await a.connect(ta);
    const b = await connectV1(`${url}/mcp`, "b");
    const [pa1, pb] = await Promise.all([pidOf(a), pidOf(b)]);
    const pa2 = await pidOf(a);
    expect(pa1).toBe(pa2);
    expect(pa1).not.toBe(pb);
    expect(pa1).not.toBe(process.pid);
    await ta.terminateSession();
    await a.close();
    await waitFor(() => !isAlive(pa1), 5000, "session a's child to exit");
    expect(isAlive(pb)).toBe(true);
    await b.close();
  });

  it("gives a stateless 2026-07-28 request a connection for the duration of the call only", async () => {
    const client = await connectV2(`${url}/mcp`, "m");
    expect(client.getProtocolEra()).toBe("modern");
    const pid = await pidOf(client);
    await waitFor(() => !isAlive(pid), 5000, "the per-call child to exit");
    const next = await pidOf(client);
    expect(next).not.toBe(pid);
    await client.close();
  });
});
