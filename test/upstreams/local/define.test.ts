import * as v from "valibot";
import { describe, expect, expectTypeOf, it } from "vitest";
import { defineTool } from "../../../src/index.ts";
import { detectMimeType, isTextType } from "../../../src/upstreams/local/mime.ts";

describe("defineTool", () => {
  it("types run's arguments from the input schema (after transforms and defaults)", () => {
    const tool = defineTool({
      input: v.object({ city: v.string(), days: v.optional(v.number(), 3), at: v.pipe(v.string(), v.transform((s) => new Date(s))) }),
      run: (args) => {
        expectTypeOf(args).toEqualTypeOf<{ city: string; days: number; at: Date }>();
        return `${args.city} ${args.days}`;
      },
    });
    expect(typeof tool.run).toBe("function");
  });

  it("types the return value against a declared output schema", () => {
    defineTool({
      input: v.object({}),
      output: v.object({ ok: v.boolean() }),
      run: () => ({ ok: true }),
    });
    defineTool({
      input: v.object({}),
      output: v.object({ ok: v.boolean() }),
      // @ts-expect-error: `ok` must be a boolean
      run: () => ({ ok: "yes" }),
    });
  });
});

describe("detectMimeType", () => {
  const bytes = (...list: number[]) => Uint8Array.from(list);
  it("trusts magic bytes over the file name", () => {
    expect(detectMimeType("photo.txt", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1))).toBe("image/png");
    expect(detectMimeType(undefined, bytes(0xff, 0xd8, 0xff, 0xe0))).toBe("image/jpeg");
    expect(detectMimeType("x", new TextEncoder().encode("GIF89a..."))).toBe("image/gif");
    expect(detectMimeType("x", new TextEncoder().encode("%PDF-1.7"))).toBe("application/pdf");
  });

  it("falls back to the extension, then to text/plain for UTF-8 and octet-stream for binary", () => {
    expect(detectMimeType("a.md", new TextEncoder().encode("# hi"))).toBe("text/markdown");
    expect(detectMimeType("a.JSON", new TextEncoder().encode("{}"))).toBe("application/json");
    expect(detectMimeType("LICENSE", new TextEncoder().encode("MIT ✓"))).toBe("text/plain");
    expect(detectMimeType("blob", bytes(0, 1, 2, 0xff))).toBe("application/octet-stream");
  });

  it("sends text types as text and the rest as blobs", () => {
    expect(["text/markdown", "application/json", "application/ld+json", "image/svg+xml"].map(isTextType)).toEqual([true, true, true, true]);
    expect(["image/png", "application/pdf", "application/octet-stream"].map(isTextType)).toEqual([false, false, false]);
  });
});
