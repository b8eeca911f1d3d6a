import { describe, expect, it } from "vitest";
import { bucketOf, createMetricsRepository, type EntryKind, type MetricsDelta } from "../../src/storage/repository.ts";
import { useDatabases } from "./_open.ts";
import type { StorageTarget } from "./suite.ts";

type Sample = { kind: EntryKind; name: string; ms: number; ok: boolean };

/** Aggregates samples in memory the way the gateway's flusher does. */
function toDeltas(samples: Sample[], lastUsed: string): MetricsDelta[] {
  const byEntry = new Map<string, MetricsDelta>();
  for (const s of samples) {
    const key = `${s.kind}:${s.name}`;
    const d = byEntry.get(key) ??
      { kind: s.kind, name: s.name, calls: 0, errors: 0, minMs: Infinity, maxMs: 0, sumMs: 0, lastUsed, buckets: {} };
    d.calls++;
    d.errors += s.ok ? 0 : 1;
    d.minMs = Math.min(d.minMs, s.ms);
    d.maxMs = Math.max(d.maxMs, s.ms);
    d.sumMs += s.ms;
    d.buckets[bucketOf(s.ms)] = (d.buckets[bucketOf(s.ms)] ?? 0) + 1;
    byEntry.set(key, d);
  }
  return [...byEntry.values()];
}

const withoutLastUsed = <T extends { lastUsed?: string }>(m: T) => ({ ...m, lastUsed: m.lastUsed === undefined ? undefined : "set" });

/** `MetricsRepository.addBatch`/`list` conformance: every dialect must pass it. */
export function runMetricsBatchSuite(target: StorageTarget): void {
  describe(`metrics batches: ${target.name}`, () => {
    const { openFresh } = useDatabases(target);

    it("addBatch in three flushes aggregates exactly like the matching single record calls", async () => {
      const [single, batched] = [createMetricsRepository(await openFresh()), createMetricsRepository(await openFresh())];
      const samples: Sample[] = Array.from({ length: 300 }, (_, i) => ({
        kind: i % 3 === 0 ? "prompt" : "tool",
        name: i % 5 === 0 ? "slow" : "search",
        ms: (i * 37) % 4000 + 0.5,
        ok: i % 7 !== 0,
      }));
      for (const s of samples) await single.record(s.kind, s.name, s.ms, s.ok);
      for (const part of [samples.slice(0, 100), samples.slice(100, 101), samples.slice(101)]) {
        await batched.addBatch(toDeltas(part, new Date().toISOString()));
      }

      const [a, b] = [await single.list(), await batched.list()];
      expect(a.map((m) => [m.kind, m.name])).toEqual([["prompt", "search"], ["prompt", "slow"], ["tool", "search"], ["tool", "slow"]]);
      expect(b.map(withoutLastUsed)).toEqual(a.map(withoutLastUsed));
      for (const m of a) {
        const got = await batched.get(m.kind, m.name);
        expect(got.calls).toBe(m.calls);
        expect(got.avg).toBeCloseTo(m.avg!, 9);
        expect(got.p95).toBe(m.p95);
      }
      expect(a.reduce((n, m) => n + m.calls, 0)).toBe(300);
    });

    it("reports the p95 of batched calls to bucket precision, ignoring a few slow outliers", async () => {
      const metrics = createMetricsRepository(await openFresh());
      const samples: Sample[] = [
        ...Array.from({ length: 98 }, () => ({ kind: "tool" as const, name: "fast", ms: 3, ok: true })),
        { kind: "tool", name: "fast", ms: 40_000, ok: true },
        { kind: "tool", name: "fast", ms: 50_000, ok: false },
      ];
      await metrics.addBatch(toDeltas(samples.slice(0, 50), "2026-01-01T00:00:00.000Z"));
      await metrics.addBatch(toDeltas(samples.slice(50), "2026-01-02T00:00:00.000Z"));
      expect(await metrics.get("tool", "fast")).toEqual({
        calls: 100,
        errors: 1,
        min: 3,
        avg: (98 * 3 + 90_000) / 100,
        p95: 5,
        max: 50_000,
        lastUsed: "2026-01-02T00:00:00.000Z",
      });
    });

    it("keeps the latest lastUsed when an older batch arrives late, and lists nothing after reset", async () => {
      const metrics = createMetricsRepository(await openFresh());
      const delta = (lastUsed: string): MetricsDelta => ({
        kind: "resource",
        name: "file:///ä.txt",
        calls: 2,
        errors: 0,
        minMs: 1,
        maxMs: 2,
        sumMs: 3,
        lastUsed,
        buckets: { 0: 1, 1: 1 },
      });
      await metrics.addBatch([delta("2026-03-01T00:00:00.000Z")]);
      await metrics.addBatch([delta("2026-02-01T00:00:00.000Z"), { ...delta("2026-02-01T00:00:00.000Z"), calls: 0 }]);
      const [only] = await metrics.list();
      expect(only).toMatchObject({ kind: "resource", name: "file:///ä.txt", calls: 4, lastUsed: "2026-03-01T00:00:00.000Z" });
      await metrics.reset();
      expect(await metrics.list()).toEqual([]);
    });

    it("applies a batch all or nothing: a bad delta at the end leaves earlier deltas unwritten", async () => {
      const metrics = createMetricsRepository(await openFresh());
      const good: MetricsDelta = {
        kind: "tool",
        name: "ok",
        calls: 1,
        errors: 0,
        minMs: 5,
        maxMs: 5,
        sumMs: 5,
        lastUsed: new Date().toISOString(),
        buckets: { 2: 1 },
      };
      await expect(metrics.addBatch([good, { ...good, name: "bad", errors: Number.NaN }])).rejects.toThrow();
      expect(await metrics.list()).toEqual([]);
      await metrics.addBatch([good]);
      expect((await metrics.get("tool", "ok")).calls).toBe(1);
    });
  });
}
