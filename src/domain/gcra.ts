/**
 * Release rate as GCRA (generic cell rate algorithm), the continuous form of a token bucket with a
 * bucket of one: releases are spaced one emission interval T = 60 000 / rate ms apart. The only state is
 * the theoretical arrival time (TAT) of the next release.
 *
 * A worker that looks at time `now` may release every slot TAT, TAT+T, ... up to `now`. If TAT is
 * further back than `catchUpMs`, the slots since passed while nobody was waiting or the worker was
 * stalled: they are dropped, not released in a burst, and the schedule restarts at `now`.
 *
 * Each release then happens at most `catchUpMs` after its slot. With catch-up under one interval T, any
 * 60 s window holds releases of slots from a span shorter than 60 s + T, so never more than rate + 1;
 * the engine wakes often enough (at least every catch-up window) that no slot is lost to lateness.
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
  const base = tatMs >= now - catchUpMs ? tatMs : now;
  const due = base > now ? 0 : Math.floor((now - base) / intervalMs) + 1;
  return { due, base, intervalMs };
}

export function advance(allowed: Allowance, released: number): number {
  return allowed.base + released * allowed.intervalMs;
}

/**
 * Catch-up window for a rate: half an interval (never below the scheduler's finest tick). A queue drawing
 * on a shared intake may have to wait for the intake's next slot, so its window stretches to cover one
 * intake interval, still under its own interval so its own bound holds.
 */
export function catchUpFor(
  perMinute: number,
  minTickMs: number,
  sharedPerMinute: number | null = null,
): number {
  const own = emissionIntervalMs(perMinute);
  const wanted = sharedPerMinute === null ? own / 2 : emissionIntervalMs(sharedPerMinute) + minTickMs;
  return Math.max(minTickMs, Math.min(Math.max(own / 2, wanted), own * 0.99));
}
