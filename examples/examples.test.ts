import { describe, expect, it } from "vitest";
import { connectV1, firstText } from "../test/_helpers.ts";
import { start as startExpress } from "./express/server.ts";
import { start as startNode } from "./node-http/server.ts";

async function echoThrough(endpoint: string): Promise<string> {
  const client = await connectV1(endpoint, "example-test");
  try {
    return firstText(await client.callTool({ name: "everything__echo", arguments: { message: "from the example" } }));
  } finally {
    await client.close();
  }
}

describe("examples", () => {
  it("the Express example serves its own route and the gateway under /mcp-gw", async () => {
    const app = await startExpress(0);
    try {
      expect(await (await fetch(`${app.url}/`)).json()).toMatchObject({ mcp: "/mcp-gw/mcp" });
      expect(await echoThrough(`${app.url}/mcp-gw/mcp`)).toBe("Echo: from the example");
    } finally {
      await app.close();
    }
  });

  it("the node:http example serves /status and the gateway next to it", async () => {
    const app = await startNode(0);
    try {
      expect(await (await fetch(`${app.url}/status`)).json()).toEqual({ ok: true, upstreams: "ok" });
      expect(await echoThrough(`${app.url}/mcp`)).toBe("Echo: from the example");
    } finally {
      await app.close();
    }
  });
});
