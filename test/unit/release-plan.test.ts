import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowance, emissionIntervalMs } from "../../src/domain/gcra.js";
import { MIN_TICK_MS, planRelease, type QueueRateInput } from "../../src/domain/release-plan.js";

/** Drives the planner like the engine does, with `waiting` visitors always available; returns release times. */
function simulate(
  perMinute: number,
  durationMs: number,
  nextStep: () => number,
  appRate: number | null = null,
) {
  let tat = 0;
  let appTat = 0;
  let now = 1_000_000;
  const end = now + durationMs;
  const times: number[] = [];
  while (now < end) {
    const plan = planRelease(
      { perMinute: appRate, tatMs: appTat },
      [{ queueId: "q", perMinute, priority: 0, tatMs: tat, waiting: 1_000_000 }],
      now,
    );
    const count = plan.counts.get("q") ?? 0;
    for (let i = 0; i < count; i++) times.push(now);
    tat = plan.queueTats.get("q") ?? tat;
    appTat = plan.applicationTat ?? appTat;
    now += nextStep();
  }
  return { times, start: end - durationMs, end };
}

function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe("GCRA allowance", () => {
  it("spaces releases one interval apart and drops slots older than the catch-up window", () => {
    expect(emissionIntervalMs(60)).toBe(1000);
    expect(allowance(0, 60, 10_000, 400)).toMatchObject({ due: 1, base: 10_000 });
    expect(allowance(9_700, 60, 10_000, 400)).toMatchObject({ due: 1, base: 9_700 });
    expect(allowance(10_500, 60, 10_000, 400).due).toBe(0);
    expect(allowance(7_000, 60, 10_000, 5_000).due).toBe(4);
  });
});

describe("release rate", () => {
  it.each([1, 7, 60, 100, 600, 1000, 3000])(
    "at %i a minute: never more than rate + 1 in any 60 s window; within 1%% over 10 minutes",
    (rate) => {
      const interval = emissionIntervalMs(rate);
      // Ticks at random moments, as often as the engine wakes for this rate (see WorkerLoop).
      const maxStep = Math.max(MIN_TICK_MS, interval / 2);
      let seed = rate;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      const { times } = simulate(rate, 600_000, () => 1 + random() * (maxStep - 1));
      expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(rate + 1);
      expect(Math.abs(times.length - rate * 10) / (rate * 10)).toBeLessThan(0.01);
    },
  );

  it("holds for random rates and tick patterns (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 1_000_000 }), (rate, seed) => {
        let state = seed;
        const random = () => {
          state = (state * 1103515245 + 12345) % 2147483648;
          return state / 2147483648;
        };
        // Ticks up to nearly a whole interval apart: as late as the catch-up window allows.
        const maxStep = Math.max(MIN_TICK_MS, emissionIntervalMs(rate) * 0.95);
        const { times } = simulate(rate, 180_000, () => 1 + random() * (maxStep - 1));
        return (
          maxInWindow(times, 60_000) <= rate + 1 &&
          Math.abs(times.length - rate * 3) <= Math.max(1, rate * 3 * 0.01)
        );
      }),
      { numRuns: 60 },
    );
  });

  it("does not burst after an idle spell or a stalled worker", () => {
    const plan = planRelease(
      { perMinute: null, tatMs: 0 },
      [{ queueId: "q", perMinute: 60, priority: 0, tatMs: 0, waiting: 500 }],
      10_000_000,
    );
    expect(plan.counts.get("q")).toBe(1);
  });
});

describe("priority and shared intake", () => {
  const queue = (queueId: string, priority: number, waiting: number, tatMs = 0): QueueRateInput => ({
    queueId,
    perMinute: 60,
    priority,
    tatMs,
    waiting,
  });

  it("serves the higher-priority queue first from a shared intake", () => {
    const plan = planRelease(
      { perMinute: 60, tatMs: 0 },
      [queue("low", 1, 10), queue("high", 5, 10)],
      1_000_000,
    );
    expect(plan.counts.get("high")).toBe(1);
    expect(plan.counts.has("low")).toBe(false);
  });

  it("passes the intake down when the higher queue is empty or at its own rate", () => {
    const empty = planRelease(
      { perMinute: 120, tatMs: 0 },
      [queue("low", 1, 10), queue("high", 5, 0)],
      1_000_000,
    );
    expect(empty.counts.get("low")).toBe(1);
    // The high queue just released (its own TAT is in the future): the shared slot goes to the low queue.
    const busy = planRelease(
      { perMinute: 120, tatMs: 0 },
      [queue("low", 1, 10), queue("high", 5, 10, 1_000_500)],
      1_000_000,
    );
    expect(busy.counts.get("low")).toBe(1);
    expect(busy.counts.has("high")).toBe(false);
  });

  it("keeps each queue within its own rate and the application within its intake over time", () => {
    let tats = new Map([
      ["a", 0],
      ["b", 0],
      ["c", 0],
    ]);
    let appTat = 0;
    const released = new Map<string, number>();
    for (let now = 1_000_000; now < 1_000_000 + 600_000; now += 100) {
      const plan = planRelease(
        { perMinute: 100, tatMs: appTat },
        [
          { queueId: "a", perMinute: 60, priority: 3, tatMs: tats.get("a") ?? 0, waiting: 1e6 },
          { queueId: "b", perMinute: 30, priority: 2, tatMs: tats.get("b") ?? 0, waiting: 1e6 },
          { queueId: "c", perMinute: 600, priority: 1, tatMs: tats.get("c") ?? 0, waiting: 1e6 },
        ],
        now,
      );
      for (const [id, n] of plan.counts) released.set(id, (released.get(id) ?? 0) + n);
      tats = new Map(plan.queueTats);
      appTat = plan.applicationTat ?? appTat;
    }
    const a = released.get("a") ?? 0;
    const b = released.get("b") ?? 0;
    const c = released.get("c") ?? 0;
    expect(a).toBeGreaterThanOrEqual(594); // its own 60/min for 10 minutes, served first
    expect(a).toBeLessThanOrEqual(601);
    expect(b).toBeGreaterThanOrEqual(297); // 30/min fits in what is left
    expect(a + b + c).toBeGreaterThanOrEqual(990); // the whole intake is used...
    expect(a + b + c).toBeLessThanOrEqual(1001); // ...and never exceeded
  });
});

describe("settling a plan", () => {
  it("charges the rate and the shared intake only for visitors actually released", () => {
    const plan = planRelease(
      { perMinute: 60, tatMs: 0 },
      [{ queueId: "q", perMinute: 60, priority: 0, tatMs: 0, waiting: 5 }],
      1_000_000,
    );
    expect(plan.counts.get("q")).toBe(1);
    // The index said 5 were waiting, but the record had none left: nothing is charged.
    const none = plan.settle(new Map());
    expect(none.queueTats.get("q")).toBe(1_000_000);
    expect(none.applicationTat).toBe(1_000_000);
    const one = plan.settle(new Map([["q", 1]]));
    expect(one.queueTats.get("q")).toBe(1_001_000);
    expect(one.applicationTat).toBe(1_001_000);
  });
});
