import { globToRegExp } from "../_utils/glob.ts";
import { resolvePolicyConfig, type PolicyCondition, type PolicyConfig, type PolicyTarget, type ResolvedPolicyConfig } from "./policy-schema.ts";
import type { Identity } from "./types.ts";

export type { PolicyCondition, PolicyConfig, PolicyRule, PolicyTarget, ResolvedPolicyConfig } from "./policy-schema.ts";

/** The name policies use for the main endpoint (virtual server names cannot contain `@`). */
export const MAIN_SERVER = "@main";

/** One question put to the policy. */
export interface AccessRequest {
  /** MCP method being authorised. List filtering asks, per entry, with the method that would use it: tools/call for a tool, prompts/get for a prompt, resources/read for a resource/template. */
  method: string;
  /** Exposed entry name: tool or prompt name, or resource URI. Absent for methods without an entry (e.g. logging/setLevel). */
  name?: string;
  /** Upstream that serves the entry, when known. */
  upstream?: string;
  /** Virtual server the client is connected to (undefined = the main endpoint). */
  server?: string;
}

/** The answer, with the rule that gave it (for `gateway explain` and audit logs). */
export interface AccessDecision {
  allow: boolean;
  /** Human-readable rule that decided, e.g. `rules[1] "support-readonly": deny tools/call on upstream "admin*"` or `default: deny`. */
  rule: string;
}

/** A compiled authorization policy: pure, synchronous, safe to call per list entry. */
export interface Policy {
  decide(identity: Identity | undefined, request: AccessRequest): AccessDecision;
}

type Matcher = (value: string | undefined) => boolean;

interface CompiledRule {
  label: string;
  who: (identity: Identity | undefined) => boolean;
  allow?: { matches: (request: AccessRequest) => boolean; text: string };
  deny?: { matches: (request: AccessRequest) => boolean; text: string };
}

/**
 * Compiles a policy. Deny overrides: any rule matching the caller whose `deny` target matches the request denies it;
 * otherwise the first matching `allow` allows it; otherwise `default` decides. Without a policy everything is allowed.
 */
export function createPolicy(config: PolicyConfig | ResolvedPolicyConfig | undefined): Policy {
  const resolved = resolvePolicyConfig(config as PolicyConfig | undefined);
  const rules = resolved.rules.map((rule, index): CompiledRule => {
    const label = `rules[${index}]${rule.name ? ` ${JSON.stringify(rule.name)}` : ""}`;
    return {
      label,
      who: compileCondition(rule.when, resolved.rolesClaim),
      ...(rule.allow ? { allow: compileTarget(rule.allow) } : {}),
      ...(rule.deny ? { deny: compileTarget(rule.deny) } : {}),
    };
  });
  const fallback: AccessDecision = { allow: resolved.default === "allow", rule: `default: ${resolved.default}` };

  return {
    decide(identity, request) {
      let allowed: AccessDecision | undefined;
      for (const rule of rules) {
        if (!rule.who(identity)) continue;
        if (rule.deny?.matches(request)) return { allow: false, rule: `${rule.label}: deny ${rule.deny.text}` };
        if (!allowed && rule.allow?.matches(request)) allowed = { allow: true, rule: `${rule.label}: allow ${rule.allow.text}` };
      }
      return allowed ?? fallback;
    },
  };
}

function globList(patterns: readonly string[] | undefined): Matcher {
  if (!patterns) return () => true;
  const regexps = patterns.map(globToRegExp);
  return (value) => value !== undefined && regexps.some((re) => re.test(value));
}

function compileTarget(target: PolicyTarget): { matches: (request: AccessRequest) => boolean; text: string } {
  const methods = globList(target.methods);
  const upstreams = globList(target.upstreams);
  const servers = globList(target.servers);
  const names = globList(target.names);
  const list = (values: readonly string[]) => (values.length === 1 ? JSON.stringify(values[0]) : `[${values.map((s) => JSON.stringify(s)).join(", ")}]`);
  const parts = [target.methods ? target.methods.join("|") : "*"];
  if (target.names) parts.push(`name ${list(target.names)}`);
  if (target.upstreams) parts.push(`on upstream ${list(target.upstreams)}`);
  if (target.servers) parts.push(`on server ${list(target.servers)}`);
  return {
    matches: (r) => methods(r.method) && names(r.name) && upstreams(r.upstream) && servers(r.server ?? MAIN_SERVER),
    text: parts.join(" "),
  };
}

function compileCondition(when: PolicyCondition | undefined, rolesClaim: string): (identity: Identity | undefined) => boolean {
  if (!when) return () => true;
  const checks: ((identity: Identity) => boolean)[] = [];
  if (when.subjects) {
    const match = globList(when.subjects);
    checks.push((id) => match(id.subject));
  }
  if (when.roles) {
    const match = globList(when.roles);
    checks.push((id) => toStrings(readClaim(id.claims, rolesClaim), /[\s,]+/).some(match));
  }
  if (when.scopes) {
    const match = globList(when.scopes);
    checks.push((id) => id.scopes.some(match));
  }
  for (const [path, expected] of Object.entries(when.claims ?? {})) {
    const accepted = (Array.isArray(expected) ? expected : [expected]).map((value): ((actual: unknown) => boolean) => {
      if (typeof value !== "string") return (actual) => actual === value;
      const re = globToRegExp(value);
      return (actual) => typeof actual === "string" && re.test(actual);
    });
    checks.push((id) => {
      const actual = readClaim(id.claims, path);
      return (Array.isArray(actual) ? actual : [actual]).some((value) => accepted.some((accept) => accept(value)));
    });
  }
  const anonymous = when.anonymous;
  return (identity) => {
    if (identity === undefined) return anonymous !== false && checks.length === 0;
    if (anonymous === true) return false;
    return checks.every((check) => check(identity));
  };
}

/** Reads a claim by literal key first (URIs contain dots), then by dotted path. */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function toStrings(value: unknown, separator: RegExp): string[] {
  if (typeof value === "string") return value.split(separator).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}
