/** Spawning `gateway translate --stdio …` for the CLI tests: a real process, its URL, and a bounded exit wait. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "../_helpers.ts";
import { stdioServerCommand } from "../fixtures/servers.ts";

export const bin = fileURLToPath(new URL("../../bin/gateway.mjs", import.meta.url));
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** The fixture stdio server as one `--stdio` command line. */
export function fixtureLine(name = "bridged"): string {
  const { command, args } = stdioServerCommand({ name });
  return [command, ...args].map(quote).join(" ");
}

/** A running `translate --stdio` process and its base URL (`http://127.0.0.1:<port>`). */
export interface TranslateProcess {
  child: ChildProcess;
  url: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (bounded). */
  exited(ms?: number): Promise<number | null>;
}

/** Start `gateway translate --stdio <line> --port 0 …extra`; resolves once it logged its URL. */
export async function startTranslate(line: string, extra: string[] = []): Promise<TranslateProcess> {
  const child = spawn(process.execPath, [bin, "translate", "--stdio", line, "--port", "0", "--log-level", "warn", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await within(
    new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      void exit.then((code) => reject(new Error(`translate exited with ${code}:\n${output}`)));
    }),
    20_000,
    "translate --stdio to start",
  );
  return { child, url, stderr: () => output, exited: (ms = 10_000) => within(exit, ms, "translate to exit") };
}
