import * as v from "valibot";
import { GatewayError } from "../errors.ts";

/** Stable problem types of the admin API (`type` is `urn:mcp-gateway:problem:<slug>`). */
export type ProblemSlug = "unauthorized" | "not-found" | "conflict" | "invalid-input" | "bad-request" | "forbidden" | "payload-too-large" | "internal";

/** One failed field of an input. */
export interface FieldIssue {
  /** Dotted path into the request body, e.g. `tools.2.name`. */
  field: string;
  message: string;
}

/** An RFC 9457 problem document; `detail` and `errors` never carry internals. */
export function problem(status: number, slug: ProblemSlug, title: string, extra: { detail?: string; errors?: FieldIssue[]; [key: string]: unknown } = {}, headers?: HeadersInit): Response {
  const body = { type: `urn:mcp-gateway:problem:${slug}`, title, status, ...extra };
  const response = new Response(JSON.stringify(body), { status, headers: { "content-type": "application/problem+json" } });
  for (const [key, value] of new Headers(headers)) response.headers.set(key, value);
  return response;
}

const SLUG_BY_CODE: Partial<Record<GatewayError["code"], ProblemSlug>> = {
  NOT_FOUND: "not-found",
  CONFLICT: "conflict",
  BAD_REQUEST: "invalid-input",
  CONFIG_INVALID: "invalid-input",
  FORBIDDEN: "forbidden",
  PAYLOAD_TOO_LARGE: "payload-too-large",
};

const TITLES: Record<ProblemSlug, string> = {
  unauthorized: "Authentication required",
  "not-found": "Not found",
  conflict: "Conflict",
  "invalid-input": "Invalid input",
  "bad-request": "Bad request",
  forbidden: "Forbidden",
  "payload-too-large": "Payload too large",
  internal: "Internal error",
};

/** The one place admin errors become problem documents: gateway errors keep their safe message, anything else is opaque. */
export function toProblem(error: unknown): Response {
  if (error instanceof InputError) return problem(422, "invalid-input", TITLES["invalid-input"], { detail: error.message, errors: error.issues });
  if (error instanceof GatewayError) {
    const slug = SLUG_BY_CODE[error.code] ?? (error.status < 500 ? "bad-request" : "internal");
    const status = slug === "invalid-input" ? 422 : error.status < 400 ? 500 : error.status;
    const issues = (error as { issues?: { path: string; message: string }[] }).issues;
    return problem(status, slug, TITLES[slug], {
      detail: status >= 500 ? "The gateway could not complete the request" : error.message,
      ...(issues ? { errors: issues.map((i) => ({ field: i.path, message: i.message })) } : {}),
      ...(error.data && status < 500 ? { data: error.data } : {}),
    });
  }
  return problem(500, "internal", TITLES.internal, { detail: "The gateway could not complete the request" });
}

/** Invalid request input, with every failed field. Becomes a 422 problem. */
export class InputError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[], prefix = "") {
    super(issues.map((i) => `${i.field || "(body)"}: ${i.message}`).join("; "));
    this.issues = prefix ? issues.map((i) => ({ ...i, field: i.field ? `${prefix}.${i.field}` : prefix })) : issues;
  }
}

/** Validate with valibot; throws {@link InputError} naming each failed field. */
export function parseInput<const S extends v.GenericSchema>(schema: S, input: unknown, prefix = ""): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new InputError(result.issues.map((issue) => ({ field: v.getDotPath(issue) ?? "", message: issue.message })), prefix);
}
