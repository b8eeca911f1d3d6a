import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectV1, firstText, waitFor } from "../_helpers.ts";
import { startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";
import { jwtProvider } from "../../src/auth/jwt.ts";

const bin = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));
let dir: string;
let one: LegacyHttpServer;
let two: LegacyHttpServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "gw-cli-"));
  [one, two] = await Promise.all([startLegacyHttpServer({ name: "one" }), startLegacyHttpServer({ name: "two" })]);
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([one?.close(), two?.close()]);
});

/** Run the real CLI; resolve once it prints its URL. Collects stderr for assertions. */
function runCli(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let output = "";
    const timer = setTimeout(() => reject(new Error(`CLI did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stderr!.on("data", onData);
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`CLI exited with ${code}:\n${output}`)));
  });
}

const configText = (upstreams: Record<string, string>) =>
  `export default { log: { level: "info" }, upstreams: ${JSON.stringify(
    Object.fromEntries(Object.entries(upstreams).map(([name, url]) => [name, { type: "streamable-http", url }])),
  )} };\n`;

describe("gateway CLI", () => {
  it("prints help for the command and each subcommand without a build step", () => {
    const main = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(main.status).toBe(0);
    expect(main.stdout).toMatch(/start/);
    expect(main.stdout).toMatch(/dev/);
    const start = spawnSync(process.execPath, [bin, "start", "--help"], { encoding: "utf8" });
    expect(start.stdout).toMatch(/--config/);
    expect(start.stdout).toMatch(/--port/);
  });

  it("reports an invalid config with the file and field, and exits 1 without a stack trace", () => {
    const file = join(dir, "bad.config.mjs");
    writeFileSync(file, `export default { upstreams: { s: { type: "streamable-http", url: "nope" } } };\n`);
    const result = spawnSync(process.execPath, [bin, "start", "--config", file, "--port", "0"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("bad.config.mjs");
    expect(result.stderr).toContain("upstreams.s.url: expected a URL");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("gateway dev applies config edits without a restart, tells clients, and survives a broken edit", async () => {
    const file = join(dir, "gateway.config.mjs");
    writeFileSync(file, configText({ one: one.url }));
    const cli = await runCli(["dev", "--config", file, "--port", "0"]);
    const client = await connectV1(`${cli.url}/mcp`, "dev");
    try {
      const names = async () => (await client.listTools()).tools.map((t) => t.name);
      expect(await names()).toContain("one__echo");
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changed++;
      });

      writeFileSync(file, configText({ one: one.url, two: two.url }));
      await waitFor(async () => changed > 0 && (await names()).includes("two__echo"), 10_000, "the added upstream's tools");

      writeFileSync(file, "export default { upstreams: { broken: ");
      await waitFor(() => /keeping the last good config/i.test(cli.output()), 10_000, "the broken edit to be reported");
      expect(await names()).toContain("two__echo");
      const result = await client.callTool({ name: "two__whoami", arguments: {} });
      expect(firstText(result)).toBe("two");

      writeFileSync(file, configText({ two: two.url }));
      await waitFor(async () => !(await names()).includes("one__echo"), 10_000, "the removed upstream's tools to go");
    } finally {
      await client.close();
    }
    cli.child.kill("SIGTERM");
    const code = await new Promise((r) => cli.child.once("exit", r));
    expect(code).toBe(0);
  });

  it("gateway token mints a JWT the configured provider accepts, and says what is missing otherwise", async () => {
    const file = join(dir, "auth.config.mjs");
    writeFileSync(
      file,
      `export default { auth: { jwt: { secret: "\${env.CLI_TEST_SECRET}", issuer: "https://iss.test", audience: "gw", algorithms: ["HS256"] } } };\n`,
    );
    const secret = "cli-test-secret-that-is-32-bytes-long!!";
    const minted = spawnSync(process.execPath, [bin, "token", "--config", file, "--sub", "alice", "--exp", "10m", "--scope", "tools:read"], {
      encoding: "utf8",
      env: { ...process.env, CLI_TEST_SECRET: secret },
    });
    expect(minted.status).toBe(0);
    const token = minted.stdout.trim();
    const provider = jwtProvider({ secret, issuer: "https://iss.test", audience: "gw", algorithms: ["HS256"] });
    const result = await provider.authenticate(new Request("http://127.0.0.1/mcp", { headers: { authorization: `Bearer ${token}` } }));
    expect(result).toMatchObject({ ok: true, identity: { subject: "alice", scopes: ["tools:read"] } });

    const noAuth = join(dir, "noauth.config.mjs");
    writeFileSync(noAuth, "export default {};\n");
    const refused = spawnSync(process.execPath, [bin, "token", "--config", noAuth, "--sub", "x"], { encoding: "utf8" });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("auth.jwt.secret");
  });
});
