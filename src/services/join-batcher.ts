import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import { isDependencyDown } from "../domain/dependency-errors.js";
import { AppError, errors } from "../domain/errors.js";
import { iso } from "../domain/time.js";
import type { QueueIndex } from "../index/types.js";
import type { JoinOutcome, JoinRequest, Store } from "../store/types.js";

/** What a join is answered with: failures are rejections. */
export type JoinAnswer = Exclude<JoinOutcome, { kind: "failed" }>;

interface Pending {
  request: JoinRequest;
  resolve(outcome: JoinAnswer): void;
  reject(error: unknown): void;
}

const MAX_BATCH = 500;
/** After the record fails, joins are refused at once for this long instead of piling up behind it. */
const FAIL_FAST_MS = 1_000;
const RETRY_AFTER_SECONDS = 2;

/**
 * Group commit for joins: requests arriving while a batch is being written wait and go together into the
 * next one, so the record pays one transaction (and one fsync) per batch rather than per visitor. A join
 * is answered only after its batch is committed. The new tickets then go into the hot index; if that
 * fails (Redis away) the join still stands: the record is the truth, and the index is repaired from it.
 * When the record is unreachable, joins fail fast with 503 and Retry-After rather than hang.
 */
export class JoinBatcher {
  private queue: Pending[] = [];
  private flushing = false;
  private unavailableUntil = 0;

  constructor(
    private readonly store: Store,
    private readonly index: QueueIndex,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  join(request: JoinRequest): Promise<JoinAnswer> {
    if (this.clock.now() < this.unavailableUntil) {
      return Promise.reject(
        errors.unavailable("the record is unavailable; retry shortly", RETRY_AFTER_SECONDS),
      );
    }
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
      const now = this.clock.now();
      let outcomes: JoinOutcome[];
      try {
        outcomes = await this.store.tickets.joinBatch(
          batch.map((pending) => pending.request),
          iso(now),
        );
      } catch (error) {
        this.logger?.error({ err: error, joins: batch.length }, "join batch failed");
        const failure = this.refusal(error);
        for (const pending of batch) pending.reject(failure);
        // With the record down, joins queued meanwhile would only fail the same way, later.
        if (isDependencyDown(error)) for (const pending of this.queue.splice(0)) pending.reject(failure);
        continue;
      }
      // Some queues' parts may have failed while others were committed: answer each as it stands.
      await this.indexNewTickets(outcomes, now);
      batch.forEach((pending, i) => {
        const outcome = outcomes[i];
        if (outcome === undefined) pending.reject(new Error("join batch returned too few outcomes"));
        else if (outcome.kind === "failed") pending.reject(this.refusal(outcome.error));
        else pending.resolve(outcome);
      });
    }
    this.flushing = false;
  }

  /** The error a refused join is answered with; a record that cannot be reached also trips fail-fast. */
  private refusal(error: unknown): unknown {
    const down = isDependencyDown(error);
    if (down) this.unavailableUntil = this.clock.now() + FAIL_FAST_MS;
    return error instanceof AppError || !down
      ? error
      : errors.unavailable("the record is unavailable; retry shortly", RETRY_AFTER_SECONDS);
  }

  private async indexNewTickets(outcomes: JoinOutcome[], now: number): Promise<void> {
    const fresh = new Map<string, number[]>();
    for (const outcome of outcomes) {
      if (outcome.kind !== "joined") continue;
      const seqs = fresh.get(outcome.ticket.queue_id) ?? [];
      seqs.push(outcome.ticket.seq);
      fresh.set(outcome.ticket.queue_id, seqs);
    }
    for (const [queueId, seqs] of fresh) {
      try {
        await this.index.addWaiting(queueId, seqs, now);
      } catch (error) {
        this.logger?.warn(
          { err: error, queueId, tickets: seqs.length },
          "joined, but the hot index missed them",
        );
      }
    }
  }
}
