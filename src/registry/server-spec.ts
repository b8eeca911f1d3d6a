import * as v from "valibot";

const SERVER_NAME_RE = /^[a-zA-Z0-9_-]{1,32}$/;
const ENTRY_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;
const SERVER_NAME_MESSAGE = 'expected 1-32 letters, digits, "_" or "-"';

/** Changes to one catalog entry, applied everywhere (`entries`) or inside one virtual server. */
export interface EntryOverride {
  /** New exposed name (tools and prompts; inside a virtual server only). */
  rename?: string;
  description?: string;
  /** Merged over the entry's own annotations. */
  annotations?: Record<string, unknown>;
  /** Arguments fixed to these values: hidden from the input schema, and a client's value is replaced. */
  fixed?: Record<string, unknown>;
  /** Labels that `tag:<label>` selectors match. */
  tags?: string[];
  /** `false` hides the entry (and refuses calls to it). */
  enabled?: boolean;
}

/** One entry by its exact exposed name, with overrides that apply inside one virtual server. */
export interface NamedEntryOverride extends EntryOverride {
  name: string;
}

/** A name, a glob (`search__*`), `tag:<label>`, or one entry by exact name with overrides. */
export type EntrySelector = string | NamedEntryOverride;

/** A curated bundle of catalog entries, served at `/servers/<name>/mcp`. */
export interface ServerSpec {
  description?: string;
  enabled?: boolean;
  /**
   * Authentication on this server's endpoints: names of the configured auth providers accepted here (`["apikey"]`),
   * or `false` for none (a public server; the policy still applies). Default: the same as the main endpoint.
   */
  auth?: false | string[];
  tools?: EntrySelector[];
  prompts?: EntrySelector[];
  /** Resource URIs, URI globs, or `tag:<label>`; resource templates are selected by their `uriTemplate`. */
  resources?: EntrySelector[];
}

/** Overrides that apply to the whole catalog, keyed by exposed name (resources: by URI). */
export interface EntryOverrides {
  tools?: Record<string, Omit<EntryOverride, "rename" | "fixed">>;
  prompts?: Record<string, Omit<EntryOverride, "rename" | "fixed">>;
  resources?: Record<string, Omit<EntryOverride, "rename" | "fixed">>;
}

/** A server with its name, as the gateway runs it. */
export interface NamedServerSpec extends ServerSpec {
  name: string;
  /** `config`: declared in the config file (read-only through the API); `api`: added at run time. */
  source: "config" | "api";
}

const tags = () => v.array(v.pipe(v.string("expected a string"), v.nonEmpty("expected a non-empty tag")), "expected an array of strings");
const record = () => v.record(v.string(), v.unknown(), "expected an object");

const common = {
  description: v.optional(v.string("expected a string")),
  annotations: v.optional(record()),
  tags: v.optional(tags()),
  enabled: v.optional(v.boolean("expected true or false")),
};

/** Schema of an {@link EntryOverride} inside a virtual server. */
export const EntryOverrideSchema = v.strictObject(
  {
    ...common,
    rename: v.optional(v.pipe(v.string("expected a string"), v.regex(ENTRY_NAME_RE, 'expected 1-64 letters, digits, "_" or "-"'))),
    fixed: v.optional(record()),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: rename, description, annotations, fixed, tags, enabled)" : "expected an object"),
);

const selector = v.union(
  [
    v.pipe(v.string(), v.nonEmpty("expected a non-empty selector")),
    v.pipe(
      v.strictObject({ name: v.pipe(v.string("expected a string"), v.nonEmpty("expected a name")), ...EntryOverrideSchema.entries }),
      v.check((s) => !/[*?]/.test(s.name) || (s.rename === undefined && s.fixed === undefined), "rename and fixed need an exact name, not a glob"),
    ),
  ],
  "expected a name, a glob, tag:<label>, or { name, ...overrides }",
);
const selectors = () => v.array(selector, "expected an array of selectors");

/** Schema of a {@link ServerSpec} (config file and admin API alike). */
export const ServerSpecSchema = v.strictObject(
  {
    description: v.optional(v.string("expected a string")),
    enabled: v.optional(v.boolean("expected true or false")),
    auth: v.optional(
      v.union(
        [v.literal(false), v.pipe(v.array(v.pipe(v.string(), v.nonEmpty())), v.nonEmpty())],
        "expected false (no authentication) or a non-empty array of auth provider names",
      ),
    ),
    tools: v.optional(selectors()),
    prompts: v.optional(selectors()),
    resources: v.optional(selectors()),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: description, enabled, auth, tools, prompts, resources)" : "expected an object"),
);

/** Schema of a virtual server name. */
export const ServerNameSchema = v.pipe(v.string(SERVER_NAME_MESSAGE), v.regex(SERVER_NAME_RE, SERVER_NAME_MESSAGE));

const globalOverride = v.strictObject(common, (issue) =>
  issue.expected === "never" ? "unknown key (allowed: description, annotations, tags, enabled)" : "expected an object",
);

/** Schema of {@link EntryOverrides}. */
export const EntryOverridesSchema = v.strictObject(
  {
    tools: v.optional(v.record(v.string(), globalOverride, "expected an object keyed by tool name")),
    prompts: v.optional(v.record(v.string(), globalOverride, "expected an object keyed by prompt name")),
    resources: v.optional(v.record(v.string(), globalOverride, "expected an object keyed by resource URI")),
  },
  (issue) => (issue.expected === "never" ? "unknown key (allowed: tools, prompts, resources)" : "expected an object"),
);
