import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/** One identity to check, as the HTTP headers that authenticate it (`{}` = anonymous). */
export interface RbacIdentity {
  label: string;
  headers: Record<string, string>;
}

/** What one identity saw: its listed tools, and per probed tool whether the call was refused as absent/denied. */
export interface RbacReport {
  label: string;
  listed: string[];
  refused: string[];
  /** Tools listed but refused, or callable but not listed: must be empty. */
  mismatches: string[];
}

export interface RbacCheckOptions {
  /** Every tool name to probe (typically what an unrestricted identity lists, plus a few that do not exist). */
  names: readonly string[];
  /** Arguments for a probe call of `name`. Default `{}`: a validation error still proves the call was allowed. */
  argumentsFor?: (name: string) => Record<string, unknown>;
  /**
   * True when a thrown call error means "denied or absent" (the gateway answers both alike).
   * Default: a JSON-RPC error whose message says the tool is unknown, not found or denied.
   */
  isRefusal?: (error: unknown) => boolean;
}

const defaultRefusal = (error: unknown) => /unknown tool|not found|denied|forbidden/i.test(String((error as Error)?.message ?? error));

/**
 * RBAC consistency over a real gateway: for each identity, `tools/list` (all pages) must equal the set of probed tools
 * whose `tools/call` is not refused. Tool errors (`isError`) and argument errors count as allowed.
 */
export async function checkRbacConsistency(mcpUrl: string, identities: readonly RbacIdentity[], options: RbacCheckOptions): Promise<RbacReport[]> {
  const isRefusal = options.isRefusal ?? defaultRefusal;
  const reports: RbacReport[] = [];
  for (const identity of identities) {
    const client = new Client({ name: `rbac-${identity.label}`, version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: identity.headers } }));
    try {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        listed.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor);
      const refused: string[] = [];
      for (const name of options.names) {
        try {
          await client.callTool({ name, arguments: options.argumentsFor?.(name) ?? {} });
        } catch (error) {
          if (isRefusal(error)) refused.push(name);
        }
      }
      const listedSet = new Set(listed);
      const refusedSet = new Set(refused);
      const mismatches = [
        ...listed.filter((name) => refusedSet.has(name)).map((name) => `${name}: listed but refused`),
        ...options.names.filter((name) => !listedSet.has(name) && !refusedSet.has(name)).map((name) => `${name}: callable but not listed`),
      ];
      reports.push({ label: identity.label, listed: listed.sort(), refused: refused.sort(), mismatches });
    } finally {
      await client.close();
    }
  }
  return reports;
}
