import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors.ts";
import { encodeCursor, paginate } from "../../src/runtime/paginate.ts";

describe("paginate", () => {
  const all = Array.from({ length: 7 }, (_, i) => i);

  it("walks every item exactly once across pages", () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = paginate(all, cursor, 3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
  });

  it("omits nextCursor on the last page", () => {
    expect(paginate(all, encodeCursor(6), 3)).toEqual({ items: [6] });
  });

  it("rejects a forged cursor with an invalid-params error", () => {
    expect(() => paginate(all, "not-a-cursor", 3)).toThrow(GatewayError);
    expect(() => paginate(all, 42, 3)).toThrow(/Invalid cursor/);
  });
});
