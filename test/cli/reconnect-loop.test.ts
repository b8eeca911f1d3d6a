/** The bridge's reconnect loop: backoff rounds, early attempts a request asks for, giving up. */
import { describe, expect, it } from "vitest";
import { startReconnectLoop, type ReconnectLoopOptions } from "../../src/cli/reconnect-loop.ts";
import { nextEvent, within } from "../_helpers.ts";

function options(overrides: Partial<ReconnectLoopOptions>): ReconnectLoopOptions {
  return { attempt: async () => {}, maxAttempts: 3, delay: () => 10, isClosing: () => false, onFailure: () => {}, onSuccess: () => {}, onGiveUp: () => {}, ...overrides };
}

describe("startReconnectLoop", () => {
  it("gives up after maxAttempts failed backoff rounds, reporting each failure with its reason", async () => {
    const failures: string[] = [];
    const gaveUp = nextEvent<void>((resolve) =>
      startReconnectLoop("dropped", options({ attempt: () => Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") })), onFailure: (n, why) => failures.push(`${n}: ${why}`), onGiveUp: resolve })),
    );
    await gaveUp;
    expect(failures).toEqual(["1: fetch failed (connect ECONNREFUSED)", "2: fetch failed (connect ECONNREFUSED)", "3: fetch failed (connect ECONNREFUSED)"]);
  });

  it("runs an attempt at once when asked, without waiting for the backoff and without using up a round", async () => {
    let up = false;
    let attempts = 0;
    const loop = startReconnectLoop(
      "dropped",
      options({
        delay: () => 60_000,
        maxAttempts: 1,
        attempt: async () => {
          attempts++;
          if (!up) throw new Error("still down");
        },
      }),
    );
    const started = Date.now();
    expect(await within(loop.attemptNow(), 1000, "an immediate attempt")).toBe(false);
    expect(loop.reason).toBe("still down");
    up = true;
    expect(await within(loop.attemptNow(), 1000, "a second immediate attempt")).toBe(true);
    expect(attempts).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("stops without an attempt once the bridge is closing", async () => {
    let attempts = 0;
    const loop = startReconnectLoop("dropped", options({ isClosing: () => true, attempt: async () => void attempts++ }));
    expect(await within(loop.attemptNow(), 1000, "the loop to notice")).toBe(false);
    expect(attempts).toBe(0);
  });
});
