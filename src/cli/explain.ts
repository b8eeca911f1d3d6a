import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineCommand } from "citty";
import type { ExplainSubject } from "../auth/explain.ts";
import { loadGatewayConfig } from "../config/load.ts";
import { GatewayError } from "../errors.ts";
import { createGateway } from "../runtime/gateway.ts";
import { createLogger } from "../_utils/logger.ts";
import { exitWithError } from "./shared.ts";

/**
 * `gateway explain`: dry run of the authorization policy. Connects the configured upstreams (to learn which one serves
 * the entry), verifies the token with the configured providers, prints the decision and the rule that made it.
 * Exit code: 0 allowed, 2 denied, 1 error.
 */
export default defineCommand({
  meta: {
    name: "explain",
    description: "Explain a policy decision, e.g. gateway explain --as claims.json tools/call everything__echo",
  },
  args: {
    as: { type: "string", required: true, description: "A bearer token, a file holding one, or a JSON file of claims ({ \"sub\": ..., \"roles\": [...] })" },
    config: { type: "string", alias: "c", description: "Config file (default: ./gateway.config.*)" },
    cwd: { type: "string", description: "Directory to look for the config in" },
    server: { type: "string", description: "Virtual server the client would connect to (default: the main endpoint)" },
    json: { type: "boolean", description: "Print the decision as JSON" },
    method: { type: "positional", required: true, description: "MCP method, e.g. tools/call" },
    name: { type: "positional", required: false, description: "Entry name: tool or prompt name, or resource URI" },
  },
  async run({ args }) {
    const log = createLogger("info");
    try {
      const who = readSubject(args.as, args.cwd);
      const { config } = await loadGatewayConfig({ cwd: args.cwd, configFile: args.config });
      const gateway = await createGateway(config, { log: createLogger("silent"), strictNames: false });
      try {
        const result = await gateway.explain(who, args.method, args.name, args.server);
        if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const target = [args.method, args.name, result.upstream ? `(upstream "${result.upstream}")` : "", args.server ? `on server "${args.server}"` : ""];
          process.stdout.write(`${result.allow ? "ALLOW" : "DENY"} ${target.filter(Boolean).join(" ")}\n`);
          process.stdout.write(`  as:   ${result.identity ? `${result.identity.subject} (scopes: ${result.identity.scopes.join(" ") || "none"})` : "anonymous"}\n`);
          process.stdout.write(`  rule: ${result.rule}\n`);
        }
        await gateway.close();
        // Upstream sockets may linger after close (keep-alive): a one-shot command ends here.
        process.exit(result.allow ? 0 : 2);
      } catch (error) {
        await gateway.close();
        throw error;
      }
    } catch (error) {
      exitWithError(error, log);
    }
  },
});

/** `--as`: a `.json` file of claims, a file holding a token, or the token itself. */
function readSubject(value: string, cwd = process.cwd()): ExplainSubject {
  const path = resolve(cwd, value);
  const text = value.length < 4096 && existsSync(path) ? readFileSync(path, "utf8").trim() : value.trim();
  if (text.startsWith("{")) {
    let claims: unknown;
    try {
      claims = JSON.parse(text);
    } catch {
      throw new GatewayError("BAD_REQUEST", `--as ${value}: not valid JSON claims`);
    }
    if (!claims || typeof claims !== "object" || Array.isArray(claims)) throw new GatewayError("BAD_REQUEST", `--as ${value}: expected a JSON object of claims`);
    return { claims: claims as Record<string, unknown> };
  }
  return { token: text };
}
