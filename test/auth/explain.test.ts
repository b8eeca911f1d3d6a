import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../src/auth/token.ts";
import { createGateway, type Gateway } from "../../src/index.ts";
import { README_URI, startLegacyHttpServer, type LegacyHttpServer } from "../fixtures/servers.ts";

const bin = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));

/** Runs the CLI without blocking this process (the upstream fixtures live here). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway ${args.join(" ")} did not exit within 20 s:\n${stdout}${stderr}`));
    }, 20_000);
    child.once("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
const SECRET = "explain-test-secret-that-is-32-bytes-long!";
const jwt = { secret: SECRET, issuer: "https://issuer.test", audience: "gw", algorithms: ["HS256"] };
const policy = {
  default: "deny" as const,
  rules: [
    { name: "members", when: { anonymous: false }, allow: { methods: ["tools/call", "resources/read"] } },
    { name: "support-readonly", when: { roles: ["support"] }, deny: { methods: ["tools/call"], upstreams: ["admin*"] } },
  ],
};

let docs: LegacyHttpServer;
let admin: LegacyHttpServer;
let gw: Gateway;
let dir: string;

beforeAll(async () => {
  [docs, admin] = await Promise.all([startLegacyHttpServer({ name: "docs" }), startLegacyHttpServer({ name: "admin" })]);
  const upstreams = {
    docs: { type: "streamable-http" as const, url: docs.url, protocol: "legacy" as const },
    admin: { type: "streamable-http" as const, url: admin.url, protocol: "legacy" as const, prefix: "adm" },
  };
  gw = await createGateway({ log: { level: "silent" }, auth: { jwt }, policy, upstreams }, { strictNames: false });
  dir = mkdtempSync(join(tmpdir(), "gw-explain-"));
  writeFileSync(join(dir, "gateway.config.json"), JSON.stringify({ log: { level: "silent" }, auth: { jwt }, policy, upstreams }));
});

afterAll(async () => {
  await gw?.close();
  await Promise.all([docs?.close(), admin?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("gateway.explain", () => {
  it("explains an allow with the rule, the identity and the upstream serving the tool", async () => {
    const result = await gw.explain({ claims: { sub: "sam", roles: ["support"], scope: "a b" } }, "tools/call", "docs__echo");
    expect(result).toEqual({ allow: true, rule: 'rules[0] "members": allow tools/call|resources/read', identity: { subject: "sam", scopes: ["a", "b"] }, upstream: "docs" });
  });

  it("explains a deny by the rule that made it, looking the upstream up by exposed name", async () => {
    const result = await gw.explain({ claims: { sub: "sam", roles: ["support"] } }, "tools/call", "adm__echo");
    expect(result).toMatchObject({ allow: false, rule: 'rules[1] "support-readonly": deny tools/call on upstream "admin*"', upstream: "admin" });
  });

  it("resolves a resource URI to its upstream and explains anonymous callers", async () => {
    const known = await gw.explain({ claims: { sub: "u" } }, "resources/read", README_URI);
    expect(known.upstream).toBeDefined();
    expect(known.allow).toBe(true);
    expect(await gw.explain({}, "resources/read", README_URI)).toMatchObject({ allow: false, rule: "default: deny" });
  });

  it("verifies a token with the configured providers and reports an authentication failure as the reason", async () => {
    const token = await mintToken({ secret: SECRET, sub: "tina", iss: jwt.issuer, aud: "gw", expiresIn: "5m", scope: "tools" });
    expect(await gw.explain({ token }, "tools/call", "adm__echo")).toMatchObject({ allow: true, identity: { subject: "tina", scopes: ["tools"] }, upstream: "admin" });
    const forged = await mintToken({ secret: "x".repeat(40), sub: "tina", iss: jwt.issuer, aud: "gw", expiresIn: "5m" });
    expect(await gw.explain({ token: forged }, "tools/call", "adm__echo")).toEqual({ allow: false, rule: "authentication: token signature is invalid" });
  });
});

describe("gateway explain (CLI)", () => {
  it("prints ALLOW/DENY with the rule for a claims file, exit code 0 or 2", async () => {
    const claims = join(dir, "sam.json");
    writeFileSync(claims, JSON.stringify({ sub: "sam", roles: ["support"] }));
    const run = (...args: string[]) => runCli(["explain", "--cwd", dir, "--as", claims, ...args]);
    const denied = await run("tools/call", "adm__echo");
    expect(denied.stderr).toBe("");
    expect(denied.status).toBe(2);
    expect(denied.stdout).toContain('DENY tools/call adm__echo (upstream "admin")');
    expect(denied.stdout).toContain('rule: rules[1] "support-readonly": deny tools/call on upstream "admin*"');
    const allowed = await run("--json", "tools/call", "docs__echo");
    expect(allowed.status).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ allow: true, upstream: "docs", identity: { subject: "sam" } });
  });

  it("accepts a token and refuses a malformed claims file with a readable error", async () => {
    const token = await mintToken({ secret: SECRET, sub: "tina", iss: jwt.issuer, aud: "gw", expiresIn: "5m" });
    const ok = await runCli(["explain", "--cwd", dir, "--as", token, "tools/call", "docs__echo"]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("as:   tina");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const refused = await runCli(["explain", "--cwd", dir, "--as", bad, "tools/call", "docs__echo"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("not valid JSON claims");
  });
});
