import { readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { dereference, type ParserOptions } from "@readme/openapi-parser";
import { describeError } from "../../_utils/errors.ts";
import type { SafeFetch } from "../../net/safe-fetch.ts";
import { readBody } from "./response.ts";

/** A dereferenced OpenAPI 3.x document (it may contain object cycles where the spec's `$ref`s do). */
export type OpenApiDocument = Record<string, unknown> & { openapi?: string; swagger?: string; paths?: Record<string, unknown> };

/** Largest spec or referenced document read. */
const MAX_SPEC_BYTES = 20 * 1024 * 1024;
const isHttp = (url: string) => /^https?:\/\//i.test(url);

/**
 * Load an OpenAPI document from a file (relative to `cwd`) or an http(s) URL and dereference every `$ref`
 * with `@readme/openapi-parser`, cycles included. Every document is read through one resolver of ours: URLs
 * through the SSRF-guarded fetch (other documents only with `allowRemoteRefs`), files only when the spec
 * itself is a file. The parser's own http resolver is never reached, because ours reads every reference.
 * @throws Error with a readable message (no stack) when the document cannot be read, parsed or resolved.
 */
export async function loadOpenApi(spec: string, options: { fetch: SafeFetch; allowRemoteRefs?: boolean; cwd?: string }): Promise<OpenApiDocument> {
  const fromUrl = isHttp(spec);
  const root = fromUrl ? spec : resolvePath(options.cwd ?? process.cwd(), spec);
  const refused: string[] = [];
  const resolver = {
    order: 1,
    canRead: () => true,
    async read(file: { url: string }): Promise<Buffer> {
      const url = file.url;
      const isRoot = url === root || url.split("#")[0] === root;
      try {
        if (isHttp(url)) {
          if (!isRoot && !options.allowRemoteRefs) throw new Error(`remote $ref to ${url} refused (set openapi.allowRemoteRefs to allow it)`);
          const response = await options.fetch(url, { headers: { accept: "application/json, application/yaml, text/yaml, */*" } });
          if (!response.ok) {
            await response.body?.cancel().catch(() => {});
            throw new Error(`GET ${url} answered HTTP ${response.status}`);
          }
          return Buffer.from(await readBody(response, MAX_SPEC_BYTES));
        }
        if (fromUrl) throw new Error(`$ref to local file ${url} refused in a spec loaded from a URL`);
        return await readFile(url.startsWith("file:") ? fileURLToPath(url) : url);
      } catch (error) {
        refused.push(isRoot ? `cannot load OpenAPI document ${spec}: ${describeError(error)}` : describeError(error));
        // Read "successfully" so the parser does not fall through to its own resolvers; the error is thrown below.
        return Buffer.from("{}");
      }
    },
  };
  const parserOptions = { resolve: { external: true, file: resolver }, dereference: { circular: true } } as unknown as ParserOptions;
  let document: OpenApiDocument;
  try {
    document = (await dereference(root, parserOptions)) as unknown as OpenApiDocument;
  } catch (error) {
    throw new Error(refused[0] ?? `cannot load OpenAPI document ${spec}: ${describeError(error)}`);
  }
  if (refused.length > 0) throw new Error(refused[0]);
  if (document.swagger) throw new Error(`${spec} is Swagger ${document.swagger}; convert it to OpenAPI 3 first (e.g. with swagger2openapi)`);
  if (typeof document.openapi !== "string" || !/^3\.[01]\./.test(document.openapi)) throw new Error(`${spec} is not an OpenAPI 3.0 or 3.1 document`);
  return document;
}
