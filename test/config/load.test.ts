import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/config/index.ts";
import { GatewayConfigError } from "../../src/errors.ts";

const DEFINE = fileURLToPath(new URL("../../src/config/define.ts", import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gateway-load-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string): Promise<string> {
  const file = join(dir, name);
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function loadError(opts: Parameters<typeof loadGatewayConfig>[0]): Promise<GatewayConfigError> {
  const error = await loadGatewayConfig(opts).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(GatewayConfigError);
  return error as GatewayConfigError;
}

describe("loadGatewayConfig", () => {
  it("finds gateway.config.ts exporting defineGateway(...) and resolves it", async () => {
    const file = await write(
      "gateway.config.ts",
      `import { defineGateway } from ${JSON.stringify(DEFINE)};
const port: number = 5001;
export default defineGateway({ server: { port }, upstreams: { fs: { type: "stdio", command: "node", args: ["fs.js"] } } });
`,
    );
    const { config, file: loaded } = await loadGatewayConfig({ cwd: dir });
    expect(loaded).toBe(file);
    expect(config.server.port).toBe(5001);
    expect(config.upstreams[0]).toMatchObject({ name: "fs", type: "stdio", args: ["fs.js"], prefix: "fs" });
  });

  it("finds gateway.config.mjs exporting a plain object", async () => {
    const file = await write("gateway.config.mjs", `export default { log: { level: "debug" } };\n`);
    const result = await loadGatewayConfig({ cwd: dir });
    expect(result.file).toBe(file);
    expect(result.config.log.level).toBe("debug");
  });

  it("finds gateway.config.json", async () => {
    const file = await write("gateway.config.json", JSON.stringify({ naming: { separator: "_" } }));
    const result = await loadGatewayConfig({ cwd: dir });
    expect(result.file).toBe(file);
    expect(result.config.naming.separator).toBe("_");
  });

  it("accepts a default-exported function", async () => {
    await write("gateway.config.mjs", `export default async () => ({ server: { pageSize: 7 } });\n`);
    expect((await loadGatewayConfig({ cwd: dir })).config.server.pageSize).toBe(7);
  });

  it("returns the defaults and no file when there is no config file", async () => {
    const result = await loadGatewayConfig({ cwd: dir });
    expect(result.file).toBeUndefined();
    expect(result.config.server.port).toBe(4444);
  });

  it.each([
    ["conf/custom.ts", `import { defineGateway } from ${JSON.stringify(DEFINE)};\nexport default defineGateway({ server: { port: 6001 } });\n`],
    ["conf/custom.mjs", `export default { server: { port: 6001 } };\n`],
    ["conf/custom.json", `{ "server": { "port": 6001 } }`],
  ])("loads an explicit config file %s relative to cwd", async (name, content) => {
    const file = await write(name, content);
    // A discoverable file that must be ignored when a path is given.
    await write("gateway.config.json", `{ "server": { "port": 1 } }`);
    const result = await loadGatewayConfig({ cwd: dir, configFile: name });
    expect(result.file).toBe(file);
    expect(result.config.server.port).toBe(6001);
  });

  it("interpolates ${env.NAME} from the given env", async () => {
    await write("gateway.config.json", JSON.stringify({ upstreams: { search: { type: "sse", url: "${env.SEARCH_URL}" } } }));
    const { config } = await loadGatewayConfig({ cwd: dir, env: { SEARCH_URL: "http://127.0.0.1:9/sse" } });
    expect(config.upstreams[0]).toMatchObject({ url: "http://127.0.0.1:9/sse" });
  });

  it("rejects a missing explicit file, naming it", async () => {
    const error = await loadError({ cwd: dir, configFile: "nope.ts" });
    expect(error.file).toBe(join(dir, "nope.ts"));
    expect(error.message).toBe(`Invalid gateway config in ${join(dir, "nope.ts")}:\n  (root): config file not found`);
  });

  it("rejects an explicit file of an unsupported type", async () => {
    await write("gateway.yaml", "server: {}\n");
    const error = await loadError({ cwd: dir, configFile: "gateway.yaml" });
    expect(error.message).toContain("unsupported config file type");
  });

  it.each([
    ["gateway.config.ts", `export default { server: { port: 1 },, };\n`, "Unexpected token"],
    ["gateway.config.mjs", `export default {\n  server: { port: 1 \n`, "Unexpected token"],
    ["gateway.config.json", `{ "server": { "port": 1 }, }`, "JSON"],
  ])("reports a syntax error in %s with the file name and no stack", async (name, content, hint) => {
    const file = await write(name, content);
    const error = await loadError({ cwd: dir });
    expect(error.file).toBe(file);
    expect(error.message).toContain(`Invalid gateway config in ${file}:`);
    expect(error.message).toContain(hint);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect(error.issues).toHaveLength(1);
  });

  it("reports an exception thrown by the config file", async () => {
    const file = await write("gateway.config.mjs", `throw new Error("boom");\n`);
    const error = await loadError({ cwd: dir });
    expect(error.message).toBe(`Invalid gateway config in ${file}:\n  (root): boom`);
  });

  it("reports a file without a default export", async () => {
    await write("gateway.config.mjs", `export const server = {};\n`);
    const error = await loadError({ cwd: dir });
    expect(error.message).toContain("must `export default` an object");
  });

  it("reports validation issues with the file name and dotted paths", async () => {
    const file = await write("gateway.config.mjs", `export default { upstreams: { search: { type: "sse", url: "ftp://x" } } };\n`);
    const error = await loadError({ cwd: dir });
    expect(error.message).toBe(`Invalid gateway config in ${file}:\n  upstreams.search.url: expected a URL (http or https)`);
  });

  it.each([
    [{ extends: "gh:someone/config" }, "extends"],
    [{ $test: { log: { level: "debug" } } }, "$test"],
  ])("treats c12's layer key %j as an unknown key instead of applying it", async (content, key) => {
    await write("gateway.config.json", JSON.stringify(content));
    const error = await loadError({ cwd: dir });
    expect(error.issues.map((i) => i.path)).toEqual([key]);
  });
});
