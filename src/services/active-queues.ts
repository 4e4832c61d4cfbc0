import type { Clock } from "../domain/clock.js";
import { configuredPerMinute, type MeterState, measuredPerMinute } from "../domain/estimate.js";
import type { QueueIndex } from "../index/types.js";
import type { ActiveQueue, Store } from "../store/types.js";

/**
 * The live queues and their settings, as last read from the record: what the worker releases and expires,
 * and what an API process reports queue sizes for. The worker's copy also keeps the hot index in step: it
 * gives it each queue's figures for estimates when a queue appears or its settings change, and makes it
 * forget a queue that is gone. An API process's copy only reads (its figures would have no measured rate).
 */
export class ActiveQueues {
  private queues = new Map<string, ActiveQueue>();
  private applications = new Map<string, ActiveQueue[]>();
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: { store: Store; index: QueueIndex; clock: Clock; maintainsIndex: boolean },
  ) {}

  all(): ActiveQueue[] {
    return [...this.queues.values()];
  }

  /** The live queues by application id. */
  byApplication(): ReadonlyMap<string, readonly ActiveQueue[]> {
    return this.applications;
  }

  /** Reloads the live queues and their settings; forgets deleted ones in the index. */
  async refresh(): Promise<void> {
    this.refreshedAt = this.deps.clock.now();
    const active = await this.deps.store.queues.active();
    const next = new Map(active.map((queue) => [queue.id, queue]));
    const { maintainsIndex } = this.deps;
    if (maintainsIndex)
      for (const id of this.queues.keys()) if (!next.has(id)) await this.deps.index.drop(id);
    const applications = new Map<string, ActiveQueue[]>();
    for (const queue of active) {
      const list = applications.get(queue.application_id) ?? [];
      list.push(queue);
      applications.set(queue.application_id, list);
      const previous = this.queues.get(queue.id);
      if (maintainsIndex && (previous === undefined || settingsChanged(previous, queue))) {
        await this.publish(queue, undefined);
      }
    }
    this.queues = next;
    this.applications = applications;
  }

  /** Reloads when the last load is older than `maxAgeMs` (a metrics scrape in an API process). */
  async refreshIfOlderThan(maxAgeMs: number): Promise<void> {
    if (this.deps.clock.now() - this.refreshedAt > maxAgeMs) await this.refresh();
  }

  /** Gives the index a queue's figures for estimates: its settings, and the meter when there is one. */
  async publish(queue: ActiveQueue, meter: MeterState | undefined): Promise<void> {
    await this.deps.index.setMeta(queue.id, {
      configuredPerMinute: configuredPerMinute(queue.max_users_per_minute, queue.application_rate),
      measuredPerMinute: meter === undefined ? undefined : measuredPerMinute(meter),
      abandonAfterSeconds: queue.abandon_after_seconds,
    });
  }
}

function settingsChanged(a: ActiveQueue, b: ActiveQueue): boolean {
  return (
    a.max_users_per_minute !== b.max_users_per_minute ||
    a.application_rate !== b.application_rate ||
    a.abandon_after_seconds !== b.abandon_after_seconds
  );
}
