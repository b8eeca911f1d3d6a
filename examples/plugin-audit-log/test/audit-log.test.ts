import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1HttpTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type GatewayConfig } from "../../../src/index.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../../../test/fixtures/servers.ts";
import { auditLog, type AuditRecord } from "../index.ts";

let upstream: LegacyHttpServer;
let dir: string;
beforeAll(async () => {
  upstream = await startLegacyHttpServer({ name: "audited" });
  dir = mkdtempSync(join(tmpdir(), "audit-"));
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function callThrough(plugins: GatewayConfig["plugins"]) {
  const gw = await createGateway({ log: { level: "silent" }, plugins, upstreams: { up: { type: "streamable-http", url: upstream.url } } });
  const { url } = await gw.listen({ port: 0 });
  const client = new V1Client({ name: "auditor", version: "1" });
  try {
    await client.connect(new V1HttpTransport(new URL(`${url}/mcp`)));
    await client.callTool({ name: "up__echo", arguments: { text: "secret-argument" } });
    await client.callTool({ name: "up__fail", arguments: {} });
  } finally {
    await client.close();
    await gw.close();
  }
}

describe("mcp-gateway-plugin-audit-log", () => {
  it("is loaded by package name from the config and appends one line per tool call", async () => {
    const file = join(dir, "by-name.jsonl");
    process.env.AUDIT_LOG_FILE = file;
    try {
      await callThrough(["mcp-gateway-plugin-audit-log"]);
    } finally {
      delete process.env.AUDIT_LOG_FILE;
    }
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord);
    expect(lines.map((l) => [l.tool, l.upstream, l.outcome])).toEqual([
      ["up__echo", "up", "ok"],
      ["up__fail", "up", "tool_error"],
    ]);
    expect(lines[0]!.durationMs).toBeGreaterThan(0);
    expect(readFileSync(file, "utf8")).not.toContain("secret-argument");
  });

  it("can be configured in code with a custom sink", async () => {
    const lines: string[] = [];
    await callThrough([auditLog({ write: (line) => lines.push(line) })]);
    expect(lines).toHaveLength(2);
  });
});
