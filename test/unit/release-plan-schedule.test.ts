import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allowance,
  emissionIntervalMs,
  freshRateState,
  inWindow,
  type RateLimitState,
  recordRelease,
} from "../../src/domain/gcra.js";
import { lcg, simulate } from "../helpers/release-simulation.js";

/** How many of the sorted `times` are after `after`. */
function countAfter(times: readonly number[], after: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] ?? 0) > after) hi = mid;
    else lo = mid + 1;
  }
  return times.length - lo;
}

describe("schedule", () => {
  const busy = (tatMs: number, recordedFrom = Number.NEGATIVE_INFINITY): RateLimitState => ({
    tatMs,
    recent: [],
    recordedFrom,
  });

  it("spaces releases one interval apart", () => {
    expect(emissionIntervalMs(60)).toBe(1000);
    expect(allowance(busy(9_700), 60, 10_000, 0)).toMatchObject({ due: 1, base: 9_700 });
    expect(allowance(busy(10_500), 60, 10_000, 0).due).toBe(0);
  });

  it("makes up slots missed while visitors waited, up to a minute's worth", () => {
    expect(allowance(busy(7_000), 60, 10_000, 0)).toMatchObject({ due: 4, base: 7_000 });
    // Further back than the catch-up horizon: only the last minute's slots are kept.
    expect(allowance(busy(0), 60, 100_000, 0)).toMatchObject({ due: 61, base: 40_000 });
  });

  it("skips slots from before the oldest waiting visitor joined: arrivals at an idle queue get no burst", () => {
    expect(allowance(busy(7_000), 60, 10_000, 9_500)).toMatchObject({ due: 1, base: 9_500 });
    expect(allowance(busy(7_000), 60, 10_000, undefined)).toMatchObject({ due: 1, base: 10_000 });
    // A join stamped by a process whose clock runs ahead still counts as waiting now.
    expect(allowance(busy(7_000), 60, 10_000, 12_000)).toMatchObject({ due: 1, base: 10_000 });
    expect(allowance(freshRateState(), 60, 10_000_000, 0).due).toBe(61);
  });

  it("makes up nothing until the last minute's releases are on record (state kept before the window was)", () => {
    expect(allowance(busy(7_000, 9_000), 60, 10_000, 0)).toMatchObject({ due: 1 });
    expect(allowance(busy(7_000, 9_000), 60, 10_000, 0).base).toBeCloseTo(9_010);
    expect(allowance(busy(7_000, Number.POSITIVE_INFINITY), 60, 10_000, 0).due).toBe(1);
    expect(allowance(busy(7_000, -50_000), 60, 10_000, 0).due).toBe(4);
  });
});

describe("release window record", () => {
  it("never counts fewer releases in a window than really happened there (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3_000 }), fc.integer({ min: 0, max: 40 })), {
          minLength: 1,
          maxLength: 400,
        }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (perMinute, rounds, seed) => {
          const random = lcg(seed);
          let state: RateLimitState = freshRateState();
          let now = 1_700_000_000_000;
          const log: number[] = [];
          for (const [step, wanted] of rounds) {
            now += step;
            const allowed = allowance(state, perMinute, now, random() < 0.05 ? now : 0);
            const released = Math.min(allowed.due, wanted);
            for (let i = 0; i < released; i++) log.push(now);
            state = recordRelease(state, allowed, released, now);
            // Any window ending now: the record may overcount, never undercount.
            for (const back of [0, 1, 500, 10_000, 59_999, 60_000, random() * 60_000]) {
              const after = now - back;
              if (inWindow(state.recent, after) < countAfter(log, after)) return false;
            }
          }
          return state.recent.length <= 32;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("stays compact: a long busy spell on time is a handful of runs", () => {
    const { state, times } = simulate({ perMinute: 600, durationMs: 600_000, nextStep: () => 60 });
    expect(times.length).toBeGreaterThan(5_900);
    expect(state.recent.length).toBeLessThanOrEqual(2);
  });
});
