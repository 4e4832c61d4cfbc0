/**
 * Release rate as GCRA (generic cell rate algorithm), the continuous form of a token bucket with a
 * bucket of one: releases are spaced one emission interval T = 60 000 / rate ms apart. The only state is
 * the theoretical arrival time (TAT) of the next release.
 *
 * A worker that looks at time `now` may release every slot TAT, TAT+T, ... up to `now`. If TAT is
 * further back than `catchUpMs`, the slots since passed while nobody was waiting or the worker was
 * stalled: they are dropped, not released in a burst, and the schedule restarts at `now`.
 *
 * Each release then happens at most `catchUpMs` after its slot. With catch-up under one interval T, the
 * releases in any 60 s window belong to slots in a span shorter than 60 s + T: at most rate + 1 of them.
 * The engine wakes often enough (well within the window) that slots are lost only to a stalled worker.
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
 * Catch-up window for a rate: just under one interval (never below the scheduler's finest tick). That is
 * the most lateness the bound above allows, so a worker slowed by load, or a queue waiting for its turn in a
 * shared intake, loses as few slots as possible.
 */
export function catchUpFor(perMinute: number, minTickMs: number): number {
  return Math.max(minTickMs, emissionIntervalMs(perMinute) * 0.99);
}
