import type { Logger } from "pino";
import { DAY_MS, hourOf } from "../../domain/analytics.js";
import type { Clock } from "../../domain/clock.js";
import { iso } from "../../domain/time.js";
import type { QueueIndex } from "../../index/types.js";
import type { ActiveQueues } from "../../services/active-queues.js";
import type { Store } from "../../store/types.js";

/** How often the worker rolls up analytics (and samples each line's length for the hour's peak). */
export const ROLLUP_EVERY_MS = 15_000;
/** How often old tickets are pruned. */
export const PRUNE_EVERY_MS = 600_000;

export interface RollupSettings {
  /**
   * Events are counted once they are this old: a release or an ending is written with the time it was
   * decided, and its transaction may commit a moment later; a window closed too early would miss it.
   */
  lagMs: number;
  /** Time one step of a queue's rollup covers (a transaction's worth). */
  stepMs: number;
  /** Joins one step counts at most. */
  maxJoins: number;
  /** Time one run may spend before leaving the rest to the next (a backlog is caught up over runs). */
  budgetMs: number;
  /** RETENTION_DAYS. */
  retentionDays: number;
  /** Tickets one prune statement deletes; batches per queue per run. */
  pruneBatch: number;
  pruneBatchesPerRun: number;
}

export const DEFAULT_ROLLUP_SETTINGS: RollupSettings = {
  lagMs: 60_000,
  stepMs: 600_000,
  maxJoins: 20_000,
  budgetMs: 5_000,
  retentionDays: 30,
  pruneBatch: 1_000,
  pruneBatchesPerRun: 50,
};

export interface AnalyticsRollupDeps {
  store: Pick<Store, "analytics">;
  index: Pick<QueueIndex, "waitingCount">;
  queues: Pick<ActiveQueues, "all">;
  clock: Clock;
  logger: Logger;
  settings?: Partial<RollupSettings>;
}

/**
 * The worker's analytics upkeep: counts each live queue's events into hourly and daily rollups of the queue
 * and of its application (domain/analytics.ts), samples the lines' lengths into the peaks, and prunes ended tickets older than RETENTION_DAYS once
 * they are counted. Any number of workers may run it: a queue's cursor is held by one at a time.
 */
export class AnalyticsRollup {
  private readonly settings: RollupSettings;

  constructor(private readonly deps: AnalyticsRollupDeps) {
    this.settings = { ...DEFAULT_ROLLUP_SETTINGS, ...deps.settings };
  }

  /** One run: the peaks, then every queue's events up to now minus the lag (within the time budget). */
  async rollUp(): Promise<{ events: number; caughtUp: boolean }> {
    const { store, index, queues, clock } = this.deps;
    const { lagMs, stepMs, maxJoins, budgetMs } = this.settings;
    const started = clock.now();
    const hour = iso(hourOf(started));
    const all = queues.all();
    // The peaks: each queue's line, and each application's lines together, as they are now.
    const byApplication = new Map<string, number>();
    for (const queue of all) {
      const waiting = await index.waitingCount(queue.id);
      if (waiting === 0) continue;
      await store.analytics.notePeak(
        { level: "queue", id: queue.id, application_id: queue.application_id },
        hour,
        waiting,
      );
      byApplication.set(queue.application_id, (byApplication.get(queue.application_id) ?? 0) + waiting);
    }
    for (const [application, waiting] of byApplication) {
      await store.analytics.notePeak(
        { level: "application", id: application, application_id: application },
        hour,
        waiting,
      );
    }
    const until = iso(started - lagMs);
    let events = 0;
    let caughtUp = true;
    for (const queue of all) {
      for (;;) {
        const progress = await store.analytics.advance(queue, until, { stepMs, maxJoins });
        events += progress.events;
        if (progress.caught_up) break;
        if (clock.now() - started >= budgetMs) {
          caughtUp = false;
          break;
        }
      }
    }
    return { events, caughtUp };
  }

  /** Deletes ended tickets older than the retention (and counted by the rollup), in batches. */
  async prune(): Promise<number> {
    const { store, clock, logger } = this.deps;
    const { retentionDays, pruneBatch, pruneBatchesPerRun } = this.settings;
    const before = iso(clock.now() - retentionDays * DAY_MS);
    let pruned = 0;
    for (const queueId of await store.analytics.queueIds()) {
      for (let batch = 0; batch < pruneBatchesPerRun; batch++) {
        const deleted = await store.analytics.pruneTickets(queueId, before, pruneBatch);
        pruned += deleted;
        if (deleted < pruneBatch) break;
      }
    }
    if (pruned > 0) logger.info({ pruned, before }, "pruned ended tickets past the retention");
    return pruned;
  }
}
