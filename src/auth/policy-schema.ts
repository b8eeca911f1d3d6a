import * as v from "valibot";
import { strict } from "../_utils/strict-object.ts";

/**
 * What a rule applies to. Every field is a list of globs (`*` any run of characters, `?` one character);
 * an absent field matches anything, a present one must match (fields are ANDed, list items ORed).
 * A request without an entry name or a known upstream never matches a target that lists `names` / `upstreams`.
 * The main endpoint is the server `"@main"`.
 */
export interface PolicyTarget {
  methods?: string[];
  upstreams?: string[];
  servers?: string[];
  names?: string[];
}

/**
 * Who a rule applies to. Fields are ANDed; within a list, any one value suffices.
 * Absent `when`: everyone, anonymous callers included.
 */
export interface PolicyCondition {
  /** Globs over `Identity.subject`. */
  subjects?: string[];
  /** Globs over the roles claim (see `PolicyConfig.rolesClaim`). */
  roles?: string[];
  /** Globs over the granted scopes. */
  scopes?: string[];
  /** Claim path (`org.team`, or a literal key like `https://example.com/tier`) → accepted value(s); strings are globs. */
  claims?: Record<string, string | number | boolean | (string | number | boolean)[]>;
  /** `true`: only unauthenticated callers; `false`: only authenticated ones. */
  anonymous?: boolean;
}

/** One rule: when `when` matches the caller, `deny` and `allow` apply to the requests their targets match. */
export interface PolicyRule {
  name?: string;
  when?: PolicyCondition;
  allow?: PolicyTarget;
  deny?: PolicyTarget;
}

/**
 * The authorization policy. Deny overrides: a request is denied when any rule that matches the caller denies it,
 * otherwise allowed when any matching rule allows it, otherwise `default` decides. Rule order only picks which rule is reported.
 */
export interface PolicyConfig {
  /** Decision when no rule matches. Default `"deny"` when `policy` is configured; everything is allowed without a policy. */
  default?: "allow" | "deny";
  /** Claim path holding roles (string, space/comma-separated string, or array). Default `"roles"`. */
  rolesClaim?: string;
  rules?: PolicyRule[];
}

/** {@link PolicyConfig} with defaults applied. */
export interface ResolvedPolicyConfig {
  readonly default: "allow" | "deny";
  readonly rolesClaim: string;
  readonly rules: readonly PolicyRule[];
}

const GLOBS = "expected an array of non-empty strings (globs)";
const globs = () => v.optional(v.pipe(v.array(v.pipe(v.string(GLOBS), v.nonEmpty(GLOBS)), GLOBS), v.nonEmpty(GLOBS)));
const scalar = v.union([v.string(), v.number(), v.boolean()], "expected a string, number or boolean");


const target = strict({ methods: globs(), upstreams: globs(), servers: globs(), names: globs() });

/** Valibot schema of {@link PolicyConfig} (used by the config schema under `policy`). */
export const PolicyConfigSchema = strict({
  default: v.optional(v.picklist(["allow", "deny"], 'expected "allow" or "deny"')),
  rolesClaim: v.optional(v.pipe(v.string("expected a claim path"), v.nonEmpty("expected a claim path"))),
  rules: v.optional(
    v.array(
      v.pipe(
        strict({
          name: v.optional(v.string("expected a string")),
          when: v.optional(
            strict({
              subjects: globs(),
              roles: globs(),
              scopes: globs(),
              claims: v.optional(v.record(v.string(), v.union([scalar, v.array(scalar)], "expected a value or an array of values"), "expected an object")),
              anonymous: v.optional(v.boolean("expected true or false")),
            }),
          ),
          allow: v.optional(target),
          deny: v.optional(target),
        }),
        v.check((rule) => rule.allow !== undefined || rule.deny !== undefined, "a rule needs `allow` and/or `deny`"),
      ),
      "expected an array of rules",
    ),
  ),
});

/** Applies defaults; `undefined` (no policy configured) allows everything. */
export function resolvePolicyConfig(config: PolicyConfig | undefined): ResolvedPolicyConfig {
  if (config === undefined) return { default: "allow", rolesClaim: "roles", rules: [] };
  return { default: config.default ?? "deny", rolesClaim: config.rolesClaim ?? "roles", rules: config.rules ?? [] };
}
