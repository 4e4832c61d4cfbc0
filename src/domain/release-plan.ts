import { type Allowance, advance, allowance, catchUpFor } from "./gcra.js";

/**
 * Who may be released now, for one application. Each queue has its own rate; an application may add a
 * shared intake that all its queues draw from. Queues are served in priority order (higher first, ties in
 * the order given), each within its own rate, until the shared intake for this moment is used up. So under
 * a shared intake a higher-priority queue with visitors waiting is never starved by a lower one.
 */
export interface QueueRateInput {
  queueId: string;
  perMinute: number;
  priority: number;
  tatMs: number;
  waiting: number;
}

export interface ApplicationRateInput {
  perMinute: number | null;
  tatMs: number;
}

export interface ReleasePlan {
  /** Releases per queue (only queues with at least one). */
  counts: Map<string, number>;
  /** New TAT per queue and for the application (undefined when it has no shared intake). */
  queueTats: Map<string, number>;
  applicationTat: number | undefined;
  /** Earliest time a queue that still has visitors waiting could release again; undefined when none wait. */
  nextDueAt: number | undefined;
  /**
   * The rate state after releasing `actual` (which may be fewer than planned: the waiting counts the plan
   * used can run ahead of the record). Slots are charged only for visitors really released.
   */
  settle(actual: ReadonlyMap<string, number>): {
    queueTats: Map<string, number>;
    applicationTat: number | undefined;
  };
}

export const MIN_TICK_MS = 10;

export function planRelease(
  application: ApplicationRateInput,
  queues: readonly QueueRateInput[],
  now: number,
): ReleasePlan {
  const shared =
    application.perMinute === null
      ? undefined
      : allowance(
          application.tatMs,
          application.perMinute,
          now,
          catchUpFor(application.perMinute, MIN_TICK_MS),
        );
  let sharedLeft = shared?.due ?? Number.POSITIVE_INFINITY;
  const counts = new Map<string, number>();
  const queueTats = new Map<string, number>();
  const ordered = [...queues].sort((a, b) => b.priority - a.priority);
  let total = 0;
  const allowances = new Map<string, Allowance>();
  for (const queue of ordered) {
    const own = allowance(queue.tatMs, queue.perMinute, now, catchUpFor(queue.perMinute, MIN_TICK_MS));
    allowances.set(queue.queueId, own);
    const count = Math.max(0, Math.min(own.due, queue.waiting, sharedLeft));
    sharedLeft -= count;
    total += count;
    if (count > 0) counts.set(queue.queueId, count);
    queueTats.set(queue.queueId, advance(own, count));
  }
  const applicationTat = shared === undefined ? undefined : advance(shared, total);
  const settle = (actual: ReadonlyMap<string, number>) => {
    const settled = new Map<string, number>();
    let released = 0;
    for (const [queueId, own] of allowances) {
      const count = actual.get(queueId) ?? 0;
      released += count;
      settled.set(queueId, advance(own, count));
    }
    return {
      queueTats: settled,
      applicationTat: shared === undefined ? undefined : advance(shared, released),
    };
  };
  let nextDueAt: number | undefined;
  for (const queue of ordered) {
    if (queue.waiting - (counts.get(queue.queueId) ?? 0) <= 0) continue;
    const due = Math.max(queueTats.get(queue.queueId) ?? now, applicationTat ?? now, now + MIN_TICK_MS);
    nextDueAt = nextDueAt === undefined ? due : Math.min(nextDueAt, due);
  }
  return { counts, queueTats, applicationTat, nextDueAt, settle };
}
