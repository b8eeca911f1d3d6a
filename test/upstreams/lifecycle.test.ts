import { describe, expect, it } from "vitest";
import { UpstreamLifecycle } from "../../src/upstreams/lifecycle.ts";
import type { UpstreamEvent } from "../../src/upstreams/types.ts";
import { createLogger } from "../../src/_utils/logger.ts";

const log = createLogger("silent");

describe("UpstreamLifecycle", () => {
  it("restarts with backoff, resets after a connect, and gives up after maxRetries", async () => {
    let reconnects = 0;
    const life = new UpstreamLifecycle("u", { initialDelayMs: 1, maxDelayMs: 2, maxRetries: 2 }, log, () => reconnects++);
    const states: string[] = [];
    life.subscribe((e: UpstreamEvent) => {
      if (e.type === "status") states.push(e.status.state);
    });
    life.lost(new Error("down"));
    life.lost(new Error("down"));
    life.lost(new Error("still down"));
    expect(life.status()).toMatchObject({ state: "failed", lastError: "still down", restarts: 2 });
    const deadline = Date.now() + 2000;
    while (reconnects < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(reconnects).toBe(2);
    life.connected({ era: "legacy" });
    life.lost(new Error("blip"));
    expect(life.status().state).toBe("restarting");
    expect(states).toEqual(["restarting", "restarting", "failed", "connected", "restarting"]);
    life.close();
    expect(life.status().state).toBe("closed");
    expect(life.unavailable().message).toBe('Upstream "u" is closed');
  });

  it("keeps delivering to other listeners when one throws", () => {
    const life = new UpstreamLifecycle("u", { initialDelayMs: 1, maxDelayMs: 1, maxRetries: 0 }, log, () => {});
    let got = 0;
    life.subscribe(() => {
      throw new Error("bad listener");
    });
    life.subscribe(() => void got++);
    life.connected();
    expect(got).toBe(1);
    life.close();
  });
});
