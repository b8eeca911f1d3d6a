import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/_utils/backoff.ts";

describe("backoffDelay", () => {
  it("doubles from the initial delay and stays within [ceiling/2, ceiling]", () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800);
  });

  it("never exceeds the cap, even after many attempts", () => {
    expect(backoffDelay(500, 100, 30_000, () => 1)).toBe(30_000);
  });
});
