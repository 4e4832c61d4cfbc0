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
import { planRelease, type QueueRateInput } from "../../src/domain/release-plan.js";

function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * Drives the planner as the engine does (plan, release what the record has, settle). `line(now, released)`
 * says how many wait at a round and since when the oldest of them (default: plenty, since the start).
 */
function simulate(options: {
  perMinute: number;
  durationMs: number;
  nextStep: () => number;
  appRate?: number | null;
  line?: (now: number, released: number) => { waiting: number; since: number | undefined };
}) {
  let queue: RateLimitState = freshRateState();
  let app: RateLimitState = freshRateState();
  const start = 1_000_000;
  let now = start;
  const times: number[] = [];
  let lastRound = now;
  while (now < start + options.durationMs) {
    lastRound = now;
    const { waiting, since } = options.line?.(now, times.length) ?? { waiting: 1_000_000, since: start };
    const plan = planRelease(
      { perMinute: options.appRate ?? null, state: app },
      [
        {
          queueId: "q",
          perMinute: options.perMinute,
          priority: 0,
          state: queue,
          waiting,
          waitingSince: since,
        },
      ],
      now,
    );
    const count = plan.counts.get("q") ?? 0;
    for (let i = 0; i < count; i++) times.push(now);
    const settled = plan.settle(plan.counts);
    queue = settled.queues.get("q") ?? queue;
    app = settled.application ?? app;
    now += options.nextStep();
  }
  return { times, start, lastRound, state: queue };
}

/** The most releases in any window [t, t + windowMs). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

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

describe("release rate", () => {
  it.each([1, 7, 60, 100, 600, 1000, 3000, 60_000])(
    "at %i a minute: never more than rate + 1 in any 60 s window, the total within one percent over 10 minutes",
    (rate) => {
      const interval = emissionIntervalMs(rate);
      // Ticks at random moments, as often as the engine wakes for this rate (see WorkerLoop).
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
          return (
            maxInWindow(times, 60_000) <= rate + 1 &&
            times.length <= slots &&
            missing <= Math.max(1, slots * 0.01)
          );
        },
      ),
      { numRuns: 12 },
    );
  });

  it("after a stall, releases what was missed at once", () => {
    let state = freshRateState();
    const at = (now: number, waiting = 1_000) => {
      const plan = planRelease(
        { perMinute: null, state: freshRateState() },
        [{ queueId: "q", perMinute: 60, priority: 0, state, waiting, waitingSince: 1_000_000 }],
        now,
      );
      state = plan.settle(plan.counts).queues.get("q") ?? state;
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

describe("priority and shared intake", () => {
  const queue = (queueId: string, priority: number, waiting: number, tatMs = 0): QueueRateInput => ({
    queueId,
    perMinute: 60,
    priority,
    state: { ...freshRateState(), tatMs },
    waiting,
    waitingSince: waiting > 0 ? 1_000_000 : undefined,
  });
  const shared = (perMinute: number) => ({ perMinute, state: freshRateState() });

  it("serves the higher-priority queue first from a shared intake", () => {
    const plan = planRelease(shared(60), [queue("low", 1, 10), queue("high", 5, 10)], 1_000_000);
    expect(plan.counts.get("high")).toBe(1);
    expect(plan.counts.has("low")).toBe(false);
  });

  it("passes the intake down when the higher queue is empty or at its own rate", () => {
    const empty = planRelease(shared(120), [queue("low", 1, 10), queue("high", 5, 0)], 1_000_000);
    expect(empty.counts.get("low")).toBe(1);
    // The high queue just released (its own TAT is in the future): the shared slot goes to the low queue.
    const busy = planRelease(shared(120), [queue("low", 1, 10), queue("high", 5, 10, 1_000_500)], 1_000_000);
    expect(busy.counts.get("low")).toBe(1);
    expect(busy.counts.has("high")).toBe(false);
  });

  it("keeps each queue within its own rate and the application within its intake over time", () => {
    const states = new Map<string, RateLimitState>([
      ["a", freshRateState()],
      ["b", freshRateState()],
      ["c", freshRateState()],
    ]);
    let app = freshRateState();
    const released = new Map<string, number[]>();
    const random = lcg(3);
    for (let now = 1_000_000; now < 1_000_000 + 600_000; now += random() < 0.01 ? 3_000 : 100) {
      const input = (queueId: string, perMinute: number, priority: number): QueueRateInput => ({
        queueId,
        perMinute,
        priority,
        state: states.get(queueId) ?? freshRateState(),
        waiting: 1e6,
        waitingSince: 1_000_000,
      });
      const plan = planRelease(
        { perMinute: 100, state: app },
        [input("a", 60, 3), input("b", 30, 2), input("c", 600, 1)],
        now,
      );
      for (const [id, n] of plan.counts) {
        const list = released.get(id) ?? [];
        for (let i = 0; i < n; i++) list.push(now);
        released.set(id, list);
      }
      const settled = plan.settle(plan.counts);
      for (const [id, state] of settled.queues) states.set(id, state);
      app = settled.application ?? app;
    }
    const a = released.get("a") ?? [];
    const b = released.get("b") ?? [];
    const c = released.get("c") ?? [];
    expect(a.length).toBeGreaterThanOrEqual(594); // its own 60/min for 10 minutes, served first
    expect(a.length).toBeLessThanOrEqual(601);
    expect(b.length).toBeGreaterThanOrEqual(297); // 30/min fits in what is left
    expect(a.length + b.length + c.length).toBeGreaterThanOrEqual(990); // the whole intake is used...
    expect(a.length + b.length + c.length).toBeLessThanOrEqual(1001); // ...and never exceeded
    expect(maxInWindow(a, 60_000)).toBeLessThanOrEqual(61);
    expect(maxInWindow(b, 60_000)).toBeLessThanOrEqual(31);
    const all = [...a, ...b, ...c].sort((x, y) => x - y);
    expect(maxInWindow(all, 60_000)).toBeLessThanOrEqual(101);
  });
});

describe("settling a plan", () => {
  it("charges the rate and the shared intake only for visitors actually released", () => {
    const plan = planRelease(
      { perMinute: 60, state: freshRateState() },
      [
        {
          queueId: "q",
          perMinute: 60,
          priority: 0,
          state: freshRateState(),
          waiting: 5,
          waitingSince: 1_000_000,
        },
      ],
      1_000_000,
    );
    expect(plan.counts.get("q")).toBe(1);
    // The index said 5 were waiting, but the record had none left: nothing is charged or recorded.
    const none = plan.settle(new Map());
    expect(none.queues.get("q")).toMatchObject({ tatMs: 1_000_000, recent: [] });
    expect(none.application).toMatchObject({ tatMs: 1_000_000, recent: [] });
    const one = plan.settle(new Map([["q", 1]]));
    expect(one.queues.get("q")?.tatMs).toBe(1_001_000);
    expect(inWindow(one.queues.get("q")?.recent ?? [], 1_000_000 - 1)).toBe(1);
    expect(inWindow(one.queues.get("q")?.recent ?? [], 1_000_000)).toBe(0);
    expect(one.application?.tatMs).toBe(1_001_000);
  });
});
