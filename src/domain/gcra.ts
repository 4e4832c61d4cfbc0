/**
 * Release rate as GCRA (generic cell rate algorithm), the continuous form of a token bucket with a
 * bucket of one: releases are spaced one emission interval T = 60 000 / rate ms apart. The only state is
 * the theoretical arrival time (TAT) of the next release.
 *
 * A worker that looks at time `now` may release every slot TAT, TAT+T, ... up to `now`. Slots older than
 * `catchUpMs` are dropped rather than released in a burst: they passed while nobody was waiting or the
 * worker was stalled. Keeping catch-up under T/2 makes "no more than rate + 1 in any 60 s window" exact
 * when the worker looks at least that often; the engine schedules its ticks accordingly.
 */
export function emissionIntervalMs(perMinute: number): number {
  return 60_000 / perMinute;
}

export interface Allowance {
  /** How many releases are due now. */
  due: number;
  /** The slot the first of them occupies; after releasing n, TAT becomes base + n * T. */
  base: number;
  intervalMs: number;
}

export function allowance(tatMs: number, perMinute: number, now: number, catchUpMs: number): Allowance {
  const intervalMs = emissionIntervalMs(perMinute);
  const base = Math.max(tatMs, now - catchUpMs);
  const due = base > now ? 0 : Math.floor((now - base) / intervalMs) + 1;
  return { due, base, intervalMs };
}

export function advance(allowed: Allowance, released: number): number {
  return allowed.base + released * allowed.intervalMs;
}

/** Catch-up window for a rate: under half an interval, but never below the scheduler's finest tick. */
export function catchUpFor(perMinute: number, minTickMs: number): number {
  return Math.max(emissionIntervalMs(perMinute) / 2 - 0.001, minTickMs);
}
