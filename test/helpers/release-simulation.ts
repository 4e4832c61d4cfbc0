import { planRelease, type RateState, unreleasedState } from "../../src/domain/release-plan.js";

/** A small deterministic generator, so property and simulation runs repeat exactly. */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * Drives the planner as the releaser does (plan, release what the record has, settle). `line(now, released)`
 * says how many wait at a round and since when the oldest of them (default: plenty, since the start).
 */
export function simulate(options: {
  perMinute: number;
  durationMs: number;
  nextStep: () => number;
  appRate?: number | null;
  line?: (now: number, released: number) => { waiting: number; since: number | undefined };
}) {
  let queue: RateState = unreleasedState();
  let app: RateState = unreleasedState();
  const start = 1_000_000;
  let now = start;
  const times: number[] = [];
  let lastRound = now;
  while (now < start + options.durationMs) {
    lastRound = now;
    const { waiting, since } = options.line?.(now, times.length) ?? { waiting: 1_000_000, since: start };
    const plan = planRelease(
      { applicationId: "app", perMinute: options.appRate ?? null, state: app },
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
    queue = settled.get("q") ?? queue;
    app = settled.get("app") ?? app;
    now += options.nextStep();
  }
  return { times, start, lastRound, state: queue };
}

/** The most releases in any window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
