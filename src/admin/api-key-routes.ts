import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import { parseInput } from "./problem.ts";
import type { AdminRoute } from "./route.ts";
import type { AdminDeps } from "./types.ts";

const CreateSchema = v.strictObject(
  {
    name: v.pipe(v.string("expected a string"), v.nonEmpty("expected a name"), v.maxLength(100, "expected at most 100 characters")),
    subject: v.optional(v.pipe(v.string("expected a string"), v.nonEmpty("expected a non-empty subject"))),
    scopes: v.optional(v.array(v.pipe(v.string("expected a string"), v.regex(/^\S+$/, "expected a scope without spaces")), "expected an array of scopes")),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: name, subject, scopes)" : "expected an object"),
);

/** `/admin/api-keys`: create (the key is in this one response, never again), list (no secrets), revoke. */
export function apiKeyRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    {
      method: "GET",
      path: "/api-keys",
      tag: "api-keys",
      summary: "List API keys: id, name, prefix, subject, scopes, dates; never the key or its hash",
      run: async () => ({ apiKeys: await deps.store.apiKeys.list() }),
    },
    {
      method: "POST",
      path: "/api-keys",
      tag: "api-keys",
      status: 201,
      summary: "Create an API key (accepted on the MCP routes when auth.apiKeys is on); the key is shown only in this response",
      body: { name: "string", subject: "string", scopes: "string[]" },
      run: async ({ body }) => {
        const created = await deps.store.apiKeys.create(parseInput(CreateSchema, await body()));
        return { key: created.key, ...created.record };
      },
    },
    {
      method: "DELETE",
      path: "/api-keys/:id",
      tag: "api-keys",
      status: 204,
      summary: "Revoke an API key (effective on the next request)",
      run: async ({ params }) => {
        if (!(await deps.store.apiKeys.revoke(params.id!))) throw new GatewayError("NOT_FOUND", `No active API key with id "${params.id}"`, { status: 404 });
        return undefined;
      },
    },
  ];
}
