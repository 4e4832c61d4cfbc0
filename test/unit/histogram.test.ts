import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOUR_MS, rollUp, series, storedHour } from "../../src/domain/analytics.js";
import { HISTOGRAM_ACCURACY, Histogram, HistogramSum } from "../../src/domain/histogram.js";

/** The exact q-quantile by nearest rank: the ⌈q·n⌉-th smallest value. */
function exact(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
  if (value === undefined) throw new Error("no values");
  return value;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing history can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const QUANTILES = [0.5, 0.9, 0.99] as const;

function expectClose(estimate: number | null, truth: number, tolerance: number): void {
  expect(estimate).not.toBeNull();
  if (truth < 1) {
    expect(estimate).toBe(0);
    return;
  }
  expect(Math.abs((estimate ?? 0) - truth)).toBeLessThanOrEqual(truth * tolerance * (1 + 1e-9));
}

describe("histogram: log-scaled buckets", () => {
  it("reads every quantile within 4% of the exact value, for any set of durations", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 8_000_000_000 }), { minLength: 1, maxLength: 400 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (values, q) => {
          const histogram = new Histogram();
          for (const value of values) histogram.add(value);
          expect(histogram.count).toBe(values.length);
          expectClose(histogram.quantile(q), exact(values, q), HISTOGRAM_ACCURACY);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("merges as if every value had been added to one, and survives its text form", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 100_000_000 }), { maxLength: 60 }), {
          minLength: 1,
          maxLength: 8,
        }),
        (parts) => {
          const merged = new Histogram();
          const whole = new Histogram();
          for (const part of parts) {
            const histogram = new Histogram();
            for (const value of part) {
              histogram.add(value);
              whole.add(value);
            }
            merged.merge(Histogram.decode(histogram.encode()));
          }
          expect(merged.encode()).toBe(whole.encode());
          expect(merged.count).toBe(parts.flat().length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("sums encoded histograms straight from their text into the same quantiles, and clears", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 8_000_000_000 }), { maxLength: 50 }), { maxLength: 10 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (parts, q) => {
          const whole = new Histogram();
          const sum = new HistogramSum();
          const half = new HistogramSum();
          for (const [i, part] of parts.entries()) {
            const histogram = new Histogram();
            for (const value of part) {
              histogram.add(value);
              whole.add(value);
            }
            (i % 2 === 0 ? sum : half).addEncoded(histogram.encode());
          }
          sum.addSum(half);
          expect(sum.count).toBe(whole.count);
          expect(sum.quantile(q)).toBe(whole.quantile(q));
          sum.clear();
          expect(sum.count).toBe(0);
          expect(sum.quantile(q)).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is empty and reads null before any value; refuses a malformed text form", () => {
    expect(new Histogram().quantile(0.5)).toBeNull();
    for (const bad of [
      "x",
      "h1;1",
      "h2;0;0;1",
      "h1;0;0;1,-2",
      "h1;0;zz;1",
      "h1;0;0;1.5",
      "h1;;0;1",
      "h1;0;900;1",
    ]) {
      expect(() => new HistogramSum().addEncoded(bad)).toThrow();
    }
    expect(Histogram.decode("").count).toBe(0);
    for (const bad of ["x", "h1;1", "h2;0;0;1", "h1;0;0;1,-2", "h1;0;zz;1", "h1;0;0;1.5"]) {
      expect(() => Histogram.decode(bad)).toThrow();
    }
  });

  it("stays within 5% of exact percentiles over any range of a generated 30-day history of hourly rollups", () => {
    const next = random(20301);
    const start = Date.parse("2030-03-01T00:00:00.000Z");
    const hours = 30 * 24;
    const releases: { joined_at: string; released_at: string }[] = [];
    const waits: number[][] = [];
    for (let hour = 0; hour < hours; hour++) {
      // A daily cycle of load; waits log-normal around a level that drifts with the load, plus outliers.
      const load = 0.5 + 0.5 * Math.sin((2 * Math.PI * (hour % 24)) / 24);
      const count = Math.round(20 + 200 * load * next());
      const hourWaits: number[] = [];
      for (let i = 0; i < count; i++) {
        const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
        const wait =
          next() < 0.01 ? Math.round(next() * 7_200_000) : Math.round(Math.exp(10 + 2 * load + normal));
        const releasedAt = start + hour * HOUR_MS + Math.floor(next() * HOUR_MS);
        releases.push({
          joined_at: new Date(releasedAt - wait).toISOString(),
          released_at: new Date(releasedAt).toISOString(),
        });
        hourWaits.push(wait);
      }
      waits.push(hourWaits);
    }
    const rolled = rollUp({ joins: [], releases, ends: [], deliveries: [], deadLetters: [] });
    expect(rolled.size).toBe(hours);
    const rows = [...rolled].map(([hour, counts]) => storedHour("q", hour, counts));
    // Ranges: the whole history by day, one day by hour, and random spans of hours.
    const spans: [number, number][] = [[0, hours]];
    for (let i = 0; i < 40; i++) {
      const a = Math.floor(next() * hours);
      const b = a + 1 + Math.floor(next() * (hours - a));
      spans.push([a, b]);
    }
    for (const [a, b] of spans) {
      const range = { from: start + a * HOUR_MS, to: start + b * HOUR_MS };
      const answer = series(rows, range, "hour");
      const inRange = waits.slice(a, b).flat();
      expect(answer.totals.releases).toBe(inRange.length);
      expectClose(answer.totals.wait_ms.p50, exact(inRange, 0.5), 0.05);
      expectClose(answer.totals.wait_ms.p90, exact(inRange, 0.9), 0.05);
      expectClose(answer.totals.wait_ms.p99, exact(inRange, 0.99), 0.05);
      for (const [i, point] of answer.series.entries()) {
        const hourWaits = waits[a + i] ?? [];
        for (const q of QUANTILES) {
          const key = q === 0.5 ? "p50" : q === 0.9 ? "p90" : "p99";
          expectClose(point.wait_ms[key], exact(hourWaits, q), 0.05);
        }
      }
    }
    const byDay = series(rows, { from: start, to: start + hours * HOUR_MS }, "day");
    expect(byDay.series).toHaveLength(30);
    for (const [day, point] of byDay.series.entries()) {
      const dayWaits = waits.slice(day * 24, day * 24 + 24).flat();
      expect(point.releases).toBe(dayWaits.length);
      for (const q of QUANTILES) {
        const key = q === 0.5 ? "p50" : q === 0.9 ? "p90" : "p99";
        expectClose(point.wait_ms[key], exact(dayWaits, q), 0.05);
      }
    }
  });
});
