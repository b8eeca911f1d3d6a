import { defineCommand, runMain } from "citty";

/** The `gateway` command. */
export const main = defineCommand({
  meta: { name: "gateway", version: "0.1.0", description: "MCP gateway: one MCP endpoint in front of many MCP servers" },
  subCommands: {
    start: () => import("./start.ts").then((m) => m.default),
    dev: () => import("./dev.ts").then((m) => m.default),
    token: () => import("./token.ts").then((m) => m.default),
    explain: () => import("./explain.ts").then((m) => m.default),
    translate: () => import("./translate.ts").then((m) => m.default),
    wrapper: () => import("./wrapper.ts").then((m) => m.default),
  },
});

/** Run the CLI with `process.argv`. */
export function run(): Promise<void> {
  return runMain(main);
}
