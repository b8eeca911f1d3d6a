import { describe, expect, it } from "vitest";
import { VALID_NAME, exposedName } from "../../src/registry/naming.ts";

describe("exposedName", () => {
  it("joins prefix, separator and name when the result is valid", () => {
    expect(exposedName("search", "__", "query")).toBe("search__query");
    expect(exposedName("a", "-", "b")).toBe("a-b");
  });

  it("returns the bare name when the prefix is turned off", () => {
    expect(exposedName(false, "__", "echo")).toBe("echo");
  });

  it("replaces characters MCP clients reject and appends a stable hash so distinct names stay distinct", () => {
    const dotted = exposedName("fs", "__", "read.file");
    const underscored = exposedName("fs", "__", "read_file");
    expect(dotted).toMatch(VALID_NAME);
    expect(dotted).toMatch(/^fs__read_file_[0-9a-f]{8}$/);
    expect(underscored).toBe("fs__read_file");
    expect(dotted).not.toBe(underscored);
  });

  it("shortens names over 64 characters deterministically", () => {
    const long = "x".repeat(80);
    const a = exposedName("upstream", "__", long);
    const b = exposedName("upstream", "__", long);
    const c = exposedName("upstream", "__", `${long}y`);
    expect(a).toBe(b);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).toMatch(VALID_NAME);
    expect(c).not.toBe(a);
  });

  it("never returns an empty or invalid name", () => {
    for (const name of ["", "🙂", "a b c", "ä", "/".repeat(100)]) {
      expect(exposedName(false, "__", name)).toMatch(VALID_NAME);
    }
  });
});
