import type { Clock } from "../domain/clock.js";
import { iso } from "../domain/time.js";
import type { QueueIndex } from "../index/types.js";
import type { JoinOutcome, JoinRequest, Store } from "../store/types.js";

interface Pending {
  request: JoinRequest;
  resolve(outcome: JoinOutcome): void;
  reject(error: unknown): void;
}

const MAX_BATCH = 500;

/**
 * Group commit for joins: requests arriving while a batch is being written wait and go together into the
 * next one, so the record pays one transaction (and one fsync) per batch rather than per visitor. A join
 * is answered only after its batch is committed and its ticket is in the hot index.
 */
export class JoinBatcher {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly store: Store,
    private readonly index: QueueIndex,
    private readonly clock: Clock,
  ) {}

  join(request: JoinRequest): Promise<JoinOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const now = this.clock.now();
        const outcomes = await this.store.tickets.joinBatch(
          batch.map((pending) => pending.request),
          iso(now),
        );
        const fresh = new Map<string, number[]>();
        for (const outcome of outcomes) {
          if (outcome.kind !== "joined") continue;
          const seqs = fresh.get(outcome.ticket.queue_id) ?? [];
          seqs.push(outcome.ticket.seq);
          fresh.set(outcome.ticket.queue_id, seqs);
        }
        for (const [queueId, seqs] of fresh) await this.index.addWaiting(queueId, seqs, now);
        batch.forEach((pending, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) pending.reject(new Error("join batch returned too few outcomes"));
          else pending.resolve(outcome);
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.flushing = false;
  }
}
