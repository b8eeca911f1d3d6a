import type { H3 } from "h3";
import { checkOrigin, readJsonBody } from "../transports/http-guards.ts";
import { authenticateAdmin, type AdminCredentials, type AdminPrincipal } from "./auth.ts";
import { InputError, problem, toProblem } from "./problem.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What a route handler gets: the request, decoded path parameters, query and the (lazily read) JSON body. */
export interface RouteContext {
  request: Request;
  params: Record<string, string>;
  query: URLSearchParams;
  principal: AdminPrincipal;
  /** The JSON body (bounded by `server.maxBodySize`); a malformed body is a 400 problem. */
  body(): Promise<unknown>;
}

/** One admin endpoint; the OpenAPI document is generated from the same table. */
export interface AdminRoute {
  method: HttpMethod;
  /** Relative to `/admin`, h3 syntax (`/servers/:name`). */
  path: string;
  summary: string;
  tag: string;
  /** JSON request body schema (OpenAPI), if the route takes one. */
  body?: Record<string, unknown>;
  /** Query parameters, for the OpenAPI document. */
  query?: string[];
  /** Success status (default 200). */
  status?: 200 | 201 | 204;
  run(ctx: RouteContext): Promise<unknown>;
}

export interface MountOptions {
  credentials: () => AdminCredentials;
  allowedOrigins: () => readonly string[];
  host: () => string;
  maxBodySize: () => number;
}

/** A route's JSON answer with a status other than its default, or with headers. */
export class Reply {
  constructor(
    readonly status: number,
    readonly value: unknown,
  ) {}
}

/**
 * Registers every route under `/admin`: Origin check, admin authentication, then the handler; any error
 * becomes a problem document. Path parameters are URI-decoded once (resource URIs travel encoded).
 */
export function mountAdminRoutes(app: H3, routes: readonly AdminRoute[], options: MountOptions): void {
  for (const route of routes) {
    app.on(route.method, `/admin${route.path}`, async (event) => {
      const request = event.req;
      const rejected = checkOrigin(request, { allowedOrigins: options.allowedOrigins(), host: options.host() });
      if (rejected) return rejected;
      const principal = authenticateAdmin(request, options.credentials());
      if (principal instanceof Response) return principal;
      try {
        const params = decodeParams((event.context.params ?? {}) as Record<string, string>);
        let body: Promise<unknown> | undefined;
        const ctx: RouteContext = {
          request,
          params,
          query: new URL(request.url).searchParams,
          principal,
          body: () => (body ??= readBody(request, options.maxBodySize())),
        };
        const result = await route.run(ctx);
        if (result instanceof Response) return result;
        if (result instanceof Reply) return json(result.status, result.value);
        if ((route.status ?? 200) === 204) return new Response(null, { status: 204 });
        return json(route.status ?? 200, result);
      } catch (error) {
        return error instanceof BodyError ? error.response : toProblem(error);
      }
    });
  }
}

function json(status: number, value: unknown): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      throw new InputError([{ field: key, message: "malformed percent-encoding" }]);
    }
  }
  return out;
}

async function readBody(request: Request, limit: number): Promise<unknown> {
  const read = await readJsonBody(request, limit);
  if ("value" in read) return read.value;
  const status = read.response.status;
  const answer =
    status === 413
      ? problem(413, "payload-too-large", "Payload too large", { detail: `The body exceeds ${limit} bytes` })
      : status === 415
        ? problem(415, "bad-request", "Unsupported media type", { detail: "Content-Type must be application/json" })
        : problem(400, "bad-request", "Bad request", { detail: "The body is not valid JSON" });
  throw new BodyError(answer);
}

/** A body that could not be read; carries its problem response. */
class BodyError extends Error {
  constructor(readonly response: Response) {
    super("unreadable body");
  }
}
