import { extname } from "node:path";

const BY_EXTENSION: Record<string, string> = {
  ".txt": "text/plain",
  ".md": "text/markdown",
  ".markdown": "text/markdown",
  ".json": "application/json",
  ".jsonl": "application/jsonl",
  ".yaml": "application/yaml",
  ".yml": "application/yaml",
  ".toml": "application/toml",
  ".xml": "application/xml",
  ".csv": "text/csv",
  ".html": "text/html",
  ".htm": "text/html",
  ".css": "text/css",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".ts": "text/typescript",
  ".py": "text/x-python",
  ".sh": "text/x-shellscript",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".wasm": "application/wasm",
};

/** Magic bytes of common binary formats: these win over the file name. */
const MAGIC: { type: string; bytes: number[]; offset?: number }[] = [
  { type: "image/png", bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: "image/jpeg", bytes: [0xff, 0xd8, 0xff] },
  { type: "image/gif", bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: "application/pdf", bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { type: "image/webp", bytes: [0x57, 0x45, 0x42, 0x50], offset: 8 },
  { type: "application/zip", bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: "application/gzip", bytes: [0x1f, 0x8b] },
];

const TEXT_TYPES = /^(text\/|application\/(json|jsonl|yaml|toml|xml|javascript)$|.*\+(json|xml)$)/;

/** The MIME type of content: magic bytes first, then the extension of `name`, then text/plain if it decodes as UTF-8. */
export function detectMimeType(name: string | undefined, bytes: Uint8Array): string {
  for (const magic of MAGIC) {
    const offset = magic.offset ?? 0;
    if (bytes.length >= offset + magic.bytes.length && magic.bytes.every((b, i) => bytes[offset + i] === b)) return magic.type;
  }
  const byName = name ? BY_EXTENSION[extname(name).toLowerCase()] : undefined;
  if (byName) return byName;
  return decodeText(bytes) === undefined ? "application/octet-stream" : "text/plain";
}

/** The MIME type for a name alone (static text resources), or undefined. */
export function mimeTypeOfName(name: string): string | undefined {
  return BY_EXTENSION[extname(name).toLowerCase()];
}

/** Whether content of this type is sent as `text` (otherwise as base64 `blob`). */
export function isTextType(mimeType: string): boolean {
  return TEXT_TYPES.test(mimeType.split(";")[0]!.trim().toLowerCase());
}

/** The bytes as UTF-8 text, or undefined when they are not valid UTF-8 or contain NUL. */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
