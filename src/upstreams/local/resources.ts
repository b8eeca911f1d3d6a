import { watch, type FSWatcher } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { UriTemplate } from "@modelcontextprotocol/server";
import { GatewayError, JsonRpcCode } from "../../errors.ts";
import type { ComputedContent, LocalResource, LocalResourceContext } from "./define.ts";
import { decodeText, detectMimeType, isTextType, mimeTypeOfName } from "./mime.ts";

/** Largest file a file resource serves. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** fs.watch reports one save as several events: coalesce them into one update. */
const WATCH_COALESCE_MS = 30;

/** A resource with its URI and (for files) absolute paths decided at config load. */
export interface CompiledResource {
  readonly name: string;
  /** The URI, or for a `dir` resource its URI template. */
  readonly uri: string;
  readonly definition: LocalResource;
  /** For file resources: the allowed root and the file, both absolute (not yet symlink-resolved). */
  readonly file?: { readonly root: string; readonly path: string };
  /** For `dir` resources: the folder (absolute) and the template that maps URIs to paths under it. */
  readonly dir?: { readonly root: string; readonly template: UriTemplate };
}

/**
 * Compile one resource. A file path must lie under its root lexically here; symlinks are checked on every read.
 * @throws Error with a readable message (no root for a file resource, `..` escape).
 */
export function compileResource(name: string, definition: LocalResource, defaultRoot: string | undefined, cwd: string): CompiledResource {
  if ("dir" in definition) {
    const root = resolve(defaultRoot ?? cwd, definition.dir);
    if (defaultRoot !== undefined && !isInside(defaultRoot, root)) throw new Error("dir is outside local.allowedRoot");
    const uriTemplate = definition.uri ?? `local://${name}/{+path}`;
    if (!uriTemplate.endsWith("{+path}")) throw new Error('the URI of a dir resource must end in "{+path}"');
    return { name, uri: uriTemplate, definition, dir: { root, template: new UriTemplate(uriTemplate) } };
  }
  const uri = definition.uri ?? `local://${name}`;
  if (!("file" in definition)) return { name, uri, definition };
  const rootSetting = definition.allowedRoot ?? defaultRoot;
  if (rootSetting === undefined) throw new Error("a file resource needs allowedRoot (here or in local.allowedRoot)");
  const root = resolve(cwd, rootSetting);
  const path = resolve(root, definition.file);
  if (!isInside(root, path)) throw new Error("file is outside its allowed root");
  return { name, uri, definition, file: { root, path } };
}

/** The `resources/list` entry of a resource. */
export function listResource(resource: CompiledResource): Record<string, unknown> {
  const { title, description } = resource.definition;
  const mimeType = resource.definition.mimeType ?? (resource.file ? mimeTypeOfName(resource.file.path) : undefined);
  return {
    uri: resource.uri,
    name: resource.name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    ...(mimeType === undefined ? {} : { mimeType }),
  };
}

/** The `resources/templates/list` entry of a `dir` resource. */
export function listTemplate(resource: CompiledResource): Record<string, unknown> {
  const { title, description, mimeType } = resource.definition;
  return {
    uriTemplate: resource.uri,
    name: resource.name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    ...(mimeType === undefined ? {} : { mimeType }),
  };
}

/**
 * The file resource a URI names under a `dir` resource, or undefined when the URI does not match its template.
 * @throws GatewayError when the path leaves the folder (`..`, absolute, NUL) or is not valid percent-encoding.
 */
export function matchDirResource(resource: CompiledResource, uri: string): CompiledResource | undefined {
  const match = resource.dir?.template.match(uri);
  const raw = match?.path;
  if (!resource.dir || typeof raw !== "string" || raw === "") return undefined;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw outsideRoot(uri);
  }
  const file = resolve(resource.dir.root, path);
  if (path.includes("\0") || isAbsolute(path) || !isInside(resource.dir.root, file) || file === resource.dir.root) throw outsideRoot(uri);
  return { name: resource.name, uri, definition: resource.definition, file: { root: resource.dir.root, path: file } };
}

/** Read a resource: `{ contents: [{ uri, mimeType, text | blob }] }`. Text types as text, the rest base64. */
export async function readResource(resource: CompiledResource, ctx: LocalResourceContext): Promise<Record<string, unknown>> {
  const { definition, uri } = resource;
  let content: ComputedContent;
  let name: string | undefined;
  if ("text" in definition) content = definition.text;
  else if ("blob" in definition) content = definition.blob;
  else if (resource.file) {
    content = await readAllowedFile(resource);
    name = resource.file.path;
  } else if ("compute" in definition) {
    content = await definition.compute(uri, ctx);
  } else {
    throw new GatewayError("INTERNAL", `Resource "${uri}" has no content`);
  }
  return { contents: [toContent(uri, content, definition.mimeType, name ?? uri)] };
}

function toContent(uri: string, content: ComputedContent, declared: string | undefined, name: string): Record<string, unknown> {
  if (typeof content === "string") return { uri, mimeType: declared ?? mimeTypeOfName(name) ?? "text/plain", text: content };
  if (content instanceof Uint8Array) {
    const mimeType = declared ?? detectMimeType(name, content);
    const text = isTextType(mimeType) ? decodeText(content) : undefined;
    return text === undefined ? { uri, mimeType, blob: Buffer.from(content).toString("base64") } : { uri, mimeType, text };
  }
  if (content && typeof content === "object" && "text" in content && typeof content.text === "string") {
    return { uri, mimeType: content.mimeType ?? declared ?? "text/plain", text: content.text };
  }
  if (content && typeof content === "object" && "blob" in content && content.blob instanceof Uint8Array) {
    return { uri, mimeType: content.mimeType ?? declared ?? detectMimeType(name, content.blob), blob: Buffer.from(content.blob).toString("base64") };
  }
  throw new GatewayError("INTERNAL", `Resource "${uri}" produced no text or bytes`);
}

/** Read a file resource after resolving symlinks: the real path must still be under the real root. */
async function readAllowedFile(resource: CompiledResource): Promise<Uint8Array> {
  const { root, path } = resource.file!;
  let realRoot: string;
  let realFile: string;
  try {
    [realRoot, realFile] = await Promise.all([realpath(root), realpath(path)]);
  } catch {
    throw notFound(resource.uri);
  }
  if (!isInside(realRoot, realFile)) throw outsideRoot(resource.uri);
  const info = await stat(realFile).catch(() => undefined);
  if (!info?.isFile()) throw notFound(resource.uri);
  if (info.size > MAX_FILE_BYTES) throw new GatewayError("PAYLOAD_TOO_LARGE", `Resource "${resource.uri}" is larger than ${MAX_FILE_BYTES} bytes`, { status: 413 });
  return readFile(realFile);
}

/**
 * Watch a file resource (its directory, so editors that replace the file are seen too); `onChange` runs once per
 * burst of events. Returns the function that stops watching.
 */
export function watchResourceFile(resource: CompiledResource, onChange: () => void, onError: (error: unknown) => void): () => void {
  const { path } = resource.file!;
  const target = basename(path);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename !== null && String(filename) !== target) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, WATCH_COALESCE_MS);
    });
    watcher.on("error", onError);
  } catch (error) {
    onError(error);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

function outsideRoot(uri: string): GatewayError {
  return new GatewayError("FORBIDDEN", `Resource "${uri}" resolves to a file outside its allowed root`, { status: 403, rpcCode: JsonRpcCode.InvalidParams });
}

function notFound(uri: string): GatewayError {
  return new GatewayError("NOT_FOUND", `Resource not found: ${uri}`, { status: 404, rpcCode: JsonRpcCode.ResourceNotFound, data: { uri } });
}
