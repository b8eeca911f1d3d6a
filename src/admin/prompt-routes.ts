import * as v from "valibot";
import { GatewayError } from "../errors.ts";
import { InputError, parseInput } from "./problem.ts";
import { Reply, type AdminRoute } from "./route.ts";
import type { AdminDeps } from "./types.ts";

const TemplateSchema = v.strictObject(
  {
    template: v.union(
      [
        v.pipe(v.string(), v.nonEmpty("expected a non-empty template")),
        v.pipe(v.array(v.strictObject({ role: v.picklist(["user", "assistant"], 'expected "user" or "assistant"'), text: v.string("expected a string") }), "expected messages"), v.nonEmpty("expected at least one message")),
      ],
      "expected a Liquid template string or [{ role, text }]",
    ),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: template)" : "expected an object"),
);
const RollbackSchema = v.strictObject(
  { version: v.pipe(v.number("expected a version number"), v.integer("expected an integer"), v.minValue(0, "expected 0 (the config's template) or a stored version")) },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: version)" : "expected an object"),
);

function promptOf(deps: AdminDeps, name: string) {
  const prompt = deps.localPrompt(name);
  if (!prompt) throw new GatewayError("NOT_FOUND", `No prompt declared in the config file is exposed as "${name}" (only local prompts have versions)`, { status: 404, data: { name } });
  return prompt;
}

/** Installs a template in the running prompt; a template the engine refuses is a 422 naming `template`. */
function install(prompt: ReturnType<AdminDeps["localPrompt"]> & object, template: unknown): void {
  try {
    prompt.set(template);
  } catch (error) {
    if (error instanceof GatewayError && error.status === 400) throw new InputError([{ field: "template", message: error.message }]);
    throw error;
  }
}

/** `/admin/prompts/:name/versions` and `/rollback`: run-time template history of prompts declared in config. */
export function promptRoutes(deps: AdminDeps): AdminRoute[] {
  const history = async (name: string) => {
    const prompt = promptOf(deps, name);
    const stored = await deps.store.prompts.list(prompt.key);
    const current = stored.at(-1)?.version ?? 0;
    return {
      name,
      current,
      versions: [{ version: 0, source: "config", template: prompt.configTemplate() }, ...stored.map((s) => ({ version: s.version, source: "api", template: s.template, createdAt: s.createdAt }))],
    };
  };
  return [
    {
      method: "GET",
      path: "/prompts/:name/versions",
      tag: "prompts",
      summary: "A local prompt's template history (version 0 = the config file's); the newest is in effect",
      run: async ({ params }) => history(params.name!),
    },
    {
      method: "POST",
      path: "/prompts/:name/versions",
      tag: "prompts",
      status: 201,
      summary: "Store and activate a new template for a local prompt (validated first: same arguments, must parse)",
      body: { template: "string | { role, text }[]" },
      run: async ({ params, body }) => {
        const prompt = promptOf(deps, params.name!);
        const { template } = parseInput(TemplateSchema, await body());
        install(prompt, template);
        await deps.store.prompts.add(prompt.key, template);
        return history(params.name!);
      },
    },
    {
      method: "POST",
      path: "/prompts/:name/rollback",
      tag: "prompts",
      summary: "Activate an earlier version (stored again as the newest, so history is never rewritten)",
      body: { version: "number" },
      run: async ({ params, body }) => {
        const prompt = promptOf(deps, params.name!);
        const { version } = parseInput(RollbackSchema, await body());
        const template = version === 0 ? prompt.configTemplate() : (await deps.store.prompts.get(prompt.key, version))?.template;
        if (template === undefined) throw new GatewayError("NOT_FOUND", `Prompt "${params.name}" has no version ${version}`, { status: 404 });
        install(prompt, template);
        await deps.store.prompts.add(prompt.key, template);
        return new Reply(200, await history(params.name!));
      },
    },
  ];
}
