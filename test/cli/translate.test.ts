import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { splitCommand } from "../../src/cli/translate.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";
import { connectSse, connectV1, firstText, isAlive, waitFor } from "../_helpers.ts";

const bin = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

describe("splitCommand", () => {
  it("splits on whitespace and honours quotes and escapes, without a shell", () => {
    expect(splitCommand(`uvx mcp-server-git --repo "/tmp/my repo" 'a b' c\\ d ""`)).toEqual(["uvx", "mcp-server-git", "--repo", "/tmp/my repo", "a b", "c d", ""]);
    expect(() => splitCommand(`node "unterminated`)).toThrow(/unterminated/);
  });
});

describe("gateway translate --stdio", () => {
  it("serves one stdio server transparently over streamable HTTP and SSE, and takes the child down on SIGTERM", async () => {
    const { command, args } = stdioServerCommand({ name: "bridged" });
    const line = [command, ...args].map(quote).join(" ");
    const child = spawn(process.execPath, [bin, "translate", "--stdio", line, "--port", "0", "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`translate did not start:\n${output}`)), 20_000);
      child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });

    const http = await connectV1(`${url}/mcp`);
    const names = (await http.listTools()).tools.map((t) => t.name);
    expect(names).toContain("echo");
    expect(firstText(await http.callTool({ name: "whoami", arguments: {} }))).toBe("bridged");
    const pid = Number(firstText(await http.callTool({ name: "pid", arguments: {} })));
    await http.close();

    const sse = await connectSse(`${url}/sse`);
    expect(firstText(await sse.callTool({ name: "echo", arguments: { text: "über SSE" } }))).toBe("über SSE");
    await sse.close();

    expect(isAlive(pid)).toBe(true);
    child.kill("SIGTERM");
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(0);
    await waitFor(() => !isAlive(pid), 5000, "the stdio child to exit");
  });
});
