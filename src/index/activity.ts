/**
 * Queue activity: "something changed in this queue" (a release batch, expiries, a join or a cancel), so
 * that whoever shows visitors their place live (the API process's live-updates hub) looks again. One
 * notice per queue per change, never one per visitor: the listener recomputes what it needs in one call.
 * In one process (embedded) a listener set suffices; in production the worker's notices reach the API
 * processes over Redis pub/sub (redis/activity.ts). Notices may be lost (Redis away): listeners refresh
 * periodically anyway.
 */
export type ActivityListener = (queueId: string) => void;

export interface QueueActivity {
  /** Something changed in the queue: tell this process's listeners at once, and other processes if shared. */
  notify(queueId: string): void;
  /** Hears every notice for any queue, from this process or (when shared) any other. */
  subscribe(listener: ActivityListener): () => void;
}

/** Within one process: the API and the worker share it in embedded mode. */
export class LocalQueueActivity implements QueueActivity {
  private readonly listeners = new Set<ActivityListener>();

  notify(queueId: string): void {
    for (const listener of this.listeners) listener(queueId);
  }

  subscribe(listener: ActivityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
