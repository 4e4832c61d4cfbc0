import { emptyMeter, type MeterState, recordReleases, wasBusy } from "./estimate.js";
import {
  type Allowance,
  allowance,
  freshRateState,
  nextAllowedAt,
  type RateLimitState,
  recordRelease,
} from "./gcra.js";

/**
 * Who may be released now, for one application, and what its stored state becomes. Each queue has its own
 * rate; an application may add a shared intake that all its queues draw from. Queues are served in
 * priority order (higher first, ties in the order given), each within its own rate, until the shared
 * intake for this moment is used up. So under a shared intake a higher-priority queue with visitors waiting
 * is never starved by a lower one. Both the queues' rates and the shared intake follow gcra.ts: a schedule
 * that makes up missed slots, within at most rate + 1 in any 60 s.
 */

/** What is kept of a queue or an application between rounds: its rate (gcra.ts) and meter (estimate.ts). */
export interface RateState extends RateLimitState {
  meter: MeterState;
}

/** A queue or application never released from. */
export function unreleasedState(): RateState {
  return { ...freshRateState(), meter: emptyMeter() };
}

export interface QueueRateInput {
  queueId: string;
  perMinute: number;
  priority: number;
  state: RateState;
  /** How many wait, as the hot index counts them (the record may have fewer). */
  waiting: number;
  /** When the oldest visitor waiting in the record joined; undefined when none is. */
  waitingSince: number | undefined;
}

export interface ApplicationRateInput {
  applicationId: string;
  /** The shared intake; null when the application has none. */
  perMinute: number | null;
  state: RateState;
}

export interface ReleasePlan {
  /** Releases per queue (only queues with at least one). */
  counts: Map<string, number>;
  /** Earliest time a queue that still has visitors waiting could release again; undefined when none wait. */
  nextDueAt: number | undefined;
  /**
   * The states to store after releasing `actual` from each queue, which may be fewer than planned (the
   * waiting counts the plan used can run ahead of the record): every queue's, and the application's under
   * its id when it has a shared intake. Slots are charged, and releases recorded and metered, only for
   * visitors really released.
   */
  settle(actual: ReadonlyMap<string, number>): Map<string, RateState>;
}

export const MIN_TICK_MS = 10;

interface SettledRates {
  queues: Map<string, RateLimitState>;
  /** Undefined when the application has no shared intake. */
  application: RateLimitState | undefined;
}

export function planRelease(
  application: ApplicationRateInput,
  queues: readonly QueueRateInput[],
  now: number,
): ReleasePlan {
  let oldest: number | undefined;
  for (const queue of queues) {
    if (queue.waitingSince !== undefined) oldest = Math.min(oldest ?? queue.waitingSince, queue.waitingSince);
  }
  const shared =
    application.perMinute === null
      ? undefined
      : allowance(application.state, application.perMinute, now, oldest);
  let sharedLeft = shared?.due ?? Number.POSITIVE_INFINITY;
  const counts = new Map<string, number>();
  const ordered = [...queues].sort((a, b) => b.priority - a.priority);
  const allowances = new Map<string, Allowance>();
  for (const queue of ordered) {
    const own = allowance(queue.state, queue.perMinute, now, queue.waitingSince);
    allowances.set(queue.queueId, own);
    const count = Math.max(0, Math.min(own.due, queue.waiting, sharedLeft));
    sharedLeft -= count;
    if (count > 0) counts.set(queue.queueId, count);
  }

  const chargeRates = (actual: ReadonlyMap<string, number>): SettledRates => {
    const settled = new Map<string, RateLimitState>();
    let released = 0;
    for (const queue of ordered) {
      const own = allowances.get(queue.queueId);
      if (own === undefined) continue;
      const count = actual.get(queue.queueId) ?? 0;
      released += count;
      settled.set(queue.queueId, recordRelease(queue.state, own, count, now));
    }
    return {
      queues: settled,
      application: shared === undefined ? undefined : recordRelease(application.state, shared, released, now),
    };
  };

  const planned = chargeRates(counts);
  const sameAsPlanned = (actual: ReadonlyMap<string, number>) =>
    actual.size === counts.size && [...counts].every(([id, count]) => actual.get(id) === count);
  const applicationNext =
    planned.application === undefined || application.perMinute === null
      ? now
      : nextAllowedAt(planned.application, application.perMinute, now);
  let nextDueAt: number | undefined;
  for (const queue of ordered) {
    if (queue.waiting - (counts.get(queue.queueId) ?? 0) <= 0) continue;
    const state = planned.queues.get(queue.queueId);
    if (state === undefined) continue;
    const due = Math.max(nextAllowedAt(state, queue.perMinute, now), applicationNext, now + MIN_TICK_MS);
    nextDueAt = nextDueAt === undefined ? due : Math.min(nextDueAt, due);
  }

  const settle = (actual: ReadonlyMap<string, number>): Map<string, RateState> => {
    const rates = sameAsPlanned(actual) ? planned : chargeRates(actual);
    const states = new Map<string, RateState>();
    for (const queue of queues) {
      const { meter } = queue.state;
      const released = actual.get(queue.queueId) ?? 0;
      states.set(queue.queueId, {
        ...(rates.queues.get(queue.queueId) ?? queue.state),
        meter: recordReleases(meter, now, released, wasBusy(meter, now, queue.waiting)),
      });
    }
    // Estimates are per queue, so nothing reads an application's meter: it is kept as stored.
    if (rates.application !== undefined) {
      states.set(application.applicationId, { ...rates.application, meter: application.state.meter });
    }
    return states;
  };
  return { counts, nextDueAt, settle };
}
