import { resolveResourceUpstream, type Catalog } from "../registry/catalog.ts";
import { authenticate } from "./authenticate.ts";
import { readScopes } from "./jwt.ts";
import { createPolicy, type AccessDecision } from "./policy.ts";
import type { ResolvedPolicyConfig } from "./policy-schema.ts";
import type { AuthProvider, Identity } from "./types.ts";

/** Who to explain a decision for: a bearer token (verified like a request's) or already-trusted claims. */
export interface ExplainSubject {
  token?: string;
  claims?: Record<string, unknown>;
}

/** A policy decision with the identity and upstream it was computed for. */
export type Explanation = AccessDecision & { identity?: { subject: string; scopes: string[] }; upstream?: string };

/** What an explanation reads from a gateway. */
export interface ExplainContext {
  providers: readonly AuthProvider[];
  policy: ResolvedPolicyConfig;
  catalog: Catalog;
}

/**
 * Dry run of the authorization policy. A token that fails authentication yields `allow: false` with the reason
 * (`authentication: ...`), exactly what the request would get; claims are taken as given (`sub`, `scope`/`scp`).
 */
export async function explainAccess(
  context: ExplainContext,
  who: ExplainSubject,
  method: string,
  name?: string,
  server?: string,
): Promise<Explanation> {
  let identity: Identity | undefined;
  if (who.token !== undefined) {
    const request = new Request("http://gateway.invalid/", { headers: { authorization: `Bearer ${who.token}` } });
    const result = await authenticate(context.providers, request);
    if (result && !result.ok) return { allow: false, rule: `authentication: ${result.message}` };
    identity = result?.identity;
  } else if (who.claims !== undefined) {
    const sub = who.claims.sub;
    identity = {
      subject: typeof sub === "string" ? sub : "",
      scopes: readScopes(who.claims),
      claims: Object.freeze({ ...who.claims }),
      provider: "claims",
    };
  }
  const upstream = name === undefined ? undefined : upstreamOf(context.catalog, method, name);
  const decision = createPolicy(context.policy).decide(identity, { method, ...(name === undefined ? {} : { name }), ...(upstream ? { upstream } : {}), ...(server === undefined ? {} : { server }) });
  return {
    ...decision,
    ...(identity ? { identity: { subject: identity.subject, scopes: identity.scopes } } : {}),
    ...(upstream ? { upstream } : {}),
  };
}

/** The upstream serving an exposed entry, by the kind of entry the method addresses. */
export function upstreamOf(catalog: Catalog, method: string, name: string): string | undefined {
  if (method.startsWith("tools/")) return catalog.tools.get(name)?.upstream;
  if (method.startsWith("prompts/")) return catalog.prompts.get(name)?.upstream;
  if (method.startsWith("resources/")) return resolveResourceUpstream(catalog, name);
  return catalog.tools.get(name)?.upstream ?? catalog.prompts.get(name)?.upstream ?? resolveResourceUpstream(catalog, name);
}
