import { configuredPerMinute, type MeterState, measuredPerMinute } from "../domain/estimate.js";
import type { QueueIndex } from "../index/types.js";
import type { ActiveQueue, Store } from "../store/types.js";

/**
 * The live queues and their settings, as last read from the record: what the worker releases and expires,
 * and what an API process reports queue sizes for. The hot index gets each queue's figures for estimates
 * when a queue appears or its settings change, and forgets a queue that is gone.
 */
export class ActiveQueues {
  private queues = new Map<string, ActiveQueue>();
  private applications = new Map<string, ActiveQueue[]>();

  constructor(private readonly deps: { store: Store; index: QueueIndex }) {}

  all(): ActiveQueue[] {
    return [...this.queues.values()];
  }

  /** The live queues by application id. */
  byApplication(): ReadonlyMap<string, readonly ActiveQueue[]> {
    return this.applications;
  }

  /** Reloads the live queues and their settings; forgets deleted ones in the index. */
  async refresh(): Promise<void> {
    const active = await this.deps.store.queues.active();
    const next = new Map(active.map((queue) => [queue.id, queue]));
    for (const id of this.queues.keys()) if (!next.has(id)) await this.deps.index.drop(id);
    const applications = new Map<string, ActiveQueue[]>();
    for (const queue of active) {
      const list = applications.get(queue.application_id) ?? [];
      list.push(queue);
      applications.set(queue.application_id, list);
      const previous = this.queues.get(queue.id);
      if (previous === undefined || settingsChanged(previous, queue)) await this.publish(queue, undefined);
    }
    this.queues = next;
    this.applications = applications;
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
