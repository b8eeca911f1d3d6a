/** A tool result as MCP defines it. */
export interface ToolResult {
  [key: string]: unknown;
  content: Record<string, unknown>[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Longest error body excerpt put in an `isError` result. */
export const EXCERPT_CHARS = 300;
/** Largest response body read; a longer one fails the call. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Replace every occurrence of a secret with `***` (secrets shorter than 4 characters are too common to mask). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("***");
  return out;
}

/** Read a body up to `limit` bytes. @throws Error when it is larger. */
export async function readBody(response: Response, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`response body of ${declared} bytes exceeds the ${limit}-byte limit`);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) {
      await response.body.cancel().catch(() => {});
      throw new Error(`response body exceeds the ${limit}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function mediaType(response: Response): string {
  return (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

function isJson(type: string): boolean {
  return type === "application/json" || type.endsWith("+json");
}

function isText(type: string): boolean {
  return type.startsWith("text/") || type.endsWith("+xml") || type === "application/xml" || type === "application/x-www-form-urlencoded" || type === "";
}

/**
 * A successful response as tool content: JSON → `structuredContent` (objects only) plus its text; text types →
 * text; images and audio → image/audio content; anything else → an embedded blob resource.
 */
export function successResult(response: Response, body: Uint8Array, url: string): ToolResult {
  const type = mediaType(response);
  if (body.byteLength === 0) return { content: [{ type: "text", text: `HTTP ${response.status} (no content)` }] };
  if (isJson(type)) {
    const text = Buffer.from(body).toString("utf8");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { content: [{ type: "text", text }] };
    }
    const structured = value !== null && typeof value === "object" && !Array.isArray(value);
    return { content: [{ type: "text", text }], ...(structured ? { structuredContent: value as Record<string, unknown> } : {}) };
  }
  if (isText(type)) return { content: [{ type: "text", text: Buffer.from(body).toString("utf8") }] };
  const data = Buffer.from(body).toString("base64");
  if (type.startsWith("image/")) return { content: [{ type: "image", data, mimeType: type }] };
  if (type.startsWith("audio/")) return { content: [{ type: "audio", data, mimeType: type }] };
  return { content: [{ type: "resource", resource: { uri: url, mimeType: type, blob: data } }] };
}

/** An HTTP error status as an `isError` result: status, reason and a short (redacted) body excerpt. */
export function errorResult(response: Response, body: Uint8Array, secrets: readonly string[]): ToolResult {
  const type = mediaType(response);
  const readable = isJson(type) || isText(type);
  // Masked before it is cut, so a secret straddling the cut cannot leak its first half.
  let excerpt = readable ? redact(Buffer.from(body.subarray(0, 64 * 1024)).toString("utf8"), secrets).replace(/\s+/g, " ").trim() : "";
  if (excerpt.length > EXCERPT_CHARS) excerpt = `${excerpt.slice(0, EXCERPT_CHARS)}…`;
  const reason = response.statusText ? ` ${redact(response.statusText, secrets)}` : "";
  const text = `HTTP ${response.status}${reason}${excerpt ? `: ${excerpt}` : ""}`;
  return { content: [{ type: "text", text }], isError: true, _meta: { http: { status: response.status } } };
}

/** Invalid arguments as an `isError` result, so the model can correct itself. */
export function invalidArgumentsResult(tool: string, message: string): ToolResult {
  return { content: [{ type: "text", text: `Invalid arguments for tool "${tool}": ${message}` }], isError: true };
}
