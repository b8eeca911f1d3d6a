import type { Readable } from "node:stream";

/** Callbacks of {@link splitLines}. */
export interface LineHandlers {
  line(line: string): void;
  /** A line longer than the limit was dropped (its size so far). */
  tooLong?(bytes: number): void;
  end?(): void;
}

/**
 * Newline-delimited UTF-8 lines from a stream, without a per-line size cap below `maxLineBytes` and without
 * re-scanning buffered bytes (a 5 MB line arriving in 64 KB chunks is scanned once). Blank lines are skipped.
 */
export function splitLines(stream: Readable, maxLineBytes: number, handlers: LineHandlers): void {
  let parts: Buffer[] = [];
  let size = 0;
  let dropping = false;
  stream.on("data", (chunk: Buffer | string) => {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let index = buffer.indexOf(10, start); index !== -1; index = buffer.indexOf(10, start)) {
      const piece = buffer.subarray(start, index);
      start = index + 1;
      if (dropping) {
        dropping = false;
        parts = [];
        size = 0;
        continue;
      }
      const text = (parts.length ? Buffer.concat([...parts, piece]) : piece).toString("utf8");
      const line = text.endsWith("\r") ? text.slice(0, -1) : text;
      parts = [];
      size = 0;
      if (line.trim()) handlers.line(line);
    }
    if (start < buffer.length && !dropping) {
      parts.push(buffer.subarray(start));
      size += buffer.length - start;
      if (size > maxLineBytes) {
        handlers.tooLong?.(size);
        dropping = true;
        parts = [];
        size = 0;
      }
    }
  });
  stream.on("end", () => {
    if (!dropping && parts.length) {
      const line = Buffer.concat(parts).toString("utf8");
      if (line.trim()) handlers.line(line);
    }
    handlers.end?.();
  });
}
