import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emissionIntervalMs } from "../../src/domain/gcra.js";
import { planRelease, unreleasedState } from "../../src/domain/release-plan.js";
import { lcg, maxInWindow, simulate } from "../helpers/release-simulation.js";

/**
 * Wake-ups as the loop makes them on a loaded machine: 10 ms to a few intervals apart, often late, and
 * about once every 30 s stalled for up to `maxStallMs` (GC, a starved CPU, a slow transaction). Stalls
 * of many seconds that often build echoes (see gcra.ts) longer than 1% of ten minutes.
 */
function lateWorker(perMinute: number, random: () => number, maxStallMs: number): () => number {
  const interval = emissionIntervalMs(perMinute);
  const usual = Math.max(10, Math.min(250, interval / 2));
  return () => {
    const step = random() < 0.1 ? usual + random() * Math.min(3 * interval, 1_000) : 10 + random() * usual;
    return random() < step / 30_000 ? step + random() * maxStallMs : step;
  };
}

describe("release rate", () => {
  it.each([1, 7, 60, 100, 600, 1000, 3000, 60_000])(
    "at %i a minute: never more than rate + 1 in any 60 s window, the total within one percent over 10 minutes",
    (rate) => {
      const interval = emissionIntervalMs(rate);
      // Ticks at random moments, as often as the loop wakes for this rate (see WorkerLoop).
      const maxStep = Math.max(10, Math.min(250, interval / 2));
      const random = lcg(rate);
      const { times } = simulate({
        perMinute: rate,
        durationMs: 600_000,
        nextStep: () => 1 + random() * (maxStep - 1),
      });
      expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(rate + 1);
      expect(Math.abs(times.length - rate * 10) / (rate * 10)).toBeLessThan(0.01);
    },
  );

  it("a late or stalled worker loses nothing: every 60 s window within rate + 1, the total on track (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 100, max: 2_000 }),
        (rate, seed, maxStallMs) => {
          const random = lcg(seed);
          const { times, lastRound } = simulate({
            perMinute: rate,
            durationMs: 600_000,
            nextStep: lateWorker(rate, random, maxStallMs),
          });
          const first = times[0] ?? 0;
          // Every slot from the first release to the last round (a worker that was stalled at the end has
          // not made up its last stall yet, so the last round is where it is counted).
          const slots = Math.floor((lastRound - first) / emissionIntervalMs(rate)) + 1;
          const missing = slots - times.length;
          // The window bound and "never ahead" hold always. The total lags only by the echo of recent stalls
          // (see gcra.ts); with stalls of up to 2 s every 30 s or so, 60 sampled runs lagged 0.2% at the
          // median and 1.06% at worst (a run whose stalls kept landing on echoes), hence 2% here; with the
          // ordinary lateness above it stays within 1%.
          return (
            maxInWindow(times, 60_000) <= rate + 1 &&
            times.length <= slots &&
            missing <= Math.max(1, slots * 0.02)
          );
        },
      ),
      { numRuns: 12 },
    );
  }, 90_000); // twelve ten-minute simulations at 10 ms ticks: well over the default timeout on a busy machine

  it("after a stall, releases what was missed at once", () => {
    let state = unreleasedState();
    const at = (now: number, waiting = 1_000) => {
      const plan = planRelease(
        { applicationId: "app", perMinute: null, state: unreleasedState() },
        [{ queueId: "q", perMinute: 60, priority: 0, state, waiting, waitingSince: 1_000_000 }],
        now,
      );
      state = plan.settle(plan.counts).get("q") ?? state;
      return plan.counts.get("q") ?? 0;
    };
    expect(at(1_000_000)).toBe(1);
    expect(at(1_001_000)).toBe(1);
    // The worker slept 5.5 s: the five slots it missed, and the one due now.
    expect(at(1_006_500)).toBe(5);
    expect(at(1_007_000)).toBe(1);
  });

  it("gives an idle queue no burst: slots pass unused while nobody waits", () => {
    const random = lcg(7);
    const arrivals: number[] = [];
    // 50 visitors arrive at once every 60 s; the queue drains in 5 s and sits idle for the rest.
    const { times } = simulate({
      perMinute: 600,
      durationMs: 600_000,
      nextStep: () => 10 + random() * 90,
      line: (now, released) => {
        const last = arrivals.at(-1);
        if (last === undefined || now - last >= 60_000) arrivals.push(now);
        const arrived = arrivals.length * 50;
        return { waiting: arrived - released, since: arrivals[Math.floor(released / 50)] };
      },
    });
    expect(times.length).toBe(500);
    // Each arrival burst is released one at a time at the rate, never as a burst of the idle slots.
    expect(new Set(times).size).toBe(times.length);
    expect(maxInWindow(times, 1_000)).toBeLessThanOrEqual(11);
  });
});
