/**
 * mcp-gateway-plugin-audit-log: one JSON line per tool call (time, session, identity, tool, upstream, duration,
 * outcome). Arguments and results are never written. Load it by name:
 *
 *   plugins: ["mcp-gateway-plugin-audit-log"]          // writes to $AUDIT_LOG_FILE or .gateway/audit.log
 *   plugins: [auditLog({ file: "/var/log/mcp.jsonl" })] // or configure it in code
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { GatewayPlugin, HookContext } from "mcp-gateway-kit";

export interface AuditLogOptions {
  /** JSON-lines file to append to. Default: `$AUDIT_LOG_FILE`, else `.gateway/audit.log`. */
  file?: string;
  /** Where lines go instead of a file (tests, log shippers). */
  write?: (line: string) => void;
}

export interface AuditRecord {
  time: string;
  session: string;
  subject?: string;
  tool?: string;
  upstream?: string;
  server?: string;
  durationMs: number;
  outcome: "ok" | "tool_error" | "error";
  error?: string;
}

/** Build the plugin. */
export function auditLog(options: AuditLogOptions = {}): GatewayPlugin {
  const file = options.file ?? process.env.AUDIT_LOG_FILE ?? ".gateway/audit.log";
  const write =
    options.write ??
    ((line: string) => {
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, `${line}\n`);
    });
  const record = (ctx: HookContext, outcome: AuditRecord["outcome"], error?: string) => {
    const started = ctx.state.get("audit:start") as number | undefined;
    const entry: AuditRecord = {
      time: new Date().toISOString(),
      session: ctx.sessionId,
      ...(ctx.identity ? { subject: ctx.identity.subject } : {}),
      ...(ctx.name ? { tool: ctx.name } : {}),
      ...(ctx.upstream ? { upstream: ctx.upstream } : {}),
      ...(ctx.server ? { server: ctx.server } : {}),
      durationMs: started === undefined ? 0 : Math.round((performance.now() - started) * 100) / 100,
      outcome,
      ...(error ? { error } : {}),
    };
    write(JSON.stringify(entry));
  };
  return {
    name: "audit-log",
    // Runs last among the after hooks so it records what the client really gets.
    priority: 1000,
    onError: "fail-open",
    hooks: {
      "tools/call:before": (_payload, ctx) => {
        ctx.state.set("audit:start", performance.now());
      },
      "tools/call:after": ({ result }, ctx) => {
        record(ctx, result.isError === true ? "tool_error" : "ok");
      },
    },
  };
}

/** Loading the package by name gets the defaults. */
export default auditLog;
