import type { Clock } from "../../domain/clock.js";
import { iso } from "../../domain/time.js";
import type { QueueActivity } from "../../index/activity.js";
import type { QueueIndex } from "../../index/types.js";
import type { Metrics } from "../../observability/metrics.js";
import type { ActiveQueues } from "../../services/active-queues.js";
import type { ActiveQueue, Store } from "../../store/types.js";
import { settleWaitingEntries } from "../upkeep/settle.js";

export interface ExpiryDeps {
  store: Store;
  index: QueueIndex;
  queues: ActiveQueues;
  clock: Clock;
  metrics: Metrics;
  /** Told once per queue per round that expired visitors (live updates listen). */
  activity?: QueueActivity;
}

const EXPIRY_BATCH = 1_000;
/**
 * Released entries stay in the hot index at least this long, and as long as the admission or the release
 * may still be used: their poll answers with the admission token.
 */
const RELEASED_MIN_RETENTION_MS = 3_600_000;
/**
 * Ended (cancelled, expired) entries stay this long. An ended answer tells the page to stop polling, so
 * the polls that follow are the ones already under way, another open tab's next one (polls are at most
 * 30 s apart) and a rare reload: two minutes covers all but the reload, which reads the record (one
 * primary-key lookup) and gets the same answer. It also outlasts the brief windows in which an entry keeps
 * a stale add (a rebuild page, a reconciler pass) from putting the ticket back in line. Memory is bounded
 * by this retention times the ending rate, and by the per-queue cap (ENDED_CAP_PER_QUEUE).
 */
export const ENDED_RETENTION_MS = 120_000;

/**
 * Ends what is over, queue by queue: waiting visitors who stopped polling, released visitors never seen at
 * the site, admissions past their lifetime; and prunes the hot index of entries kept past their use.
 */
export class Expiry {
  constructor(private readonly deps: ExpiryDeps) {}

  async expire(): Promise<void> {
    const now = this.deps.clock.now();
    for (const queue of this.deps.queues.all()) {
      const ended = (await this.abandoned(queue, now)) + (await this.unseen(queue, now));
      if (ended > 0) this.deps.activity?.notify(queue.id);
      await this.admissionsOver(queue, now);
      const releasedRetention = Math.max(
        RELEASED_MIN_RETENTION_MS,
        queue.admission_ttl_seconds * 1000,
        queue.release_ttl_seconds * 1000,
      );
      await this.deps.index.prune(queue.id, now - releasedRetention, now - ENDED_RETENTION_MS);
    }
  }

  /** Waiting visitors whose heartbeat is older than the queue's abandonment window. */
  private async abandoned(queue: ActiveQueue, now: number): Promise<number> {
    const { index, store, metrics } = this.deps;
    const stale = await index.abandoned(queue.id, now - queue.abandon_after_seconds * 1000, EXPIRY_BATCH);
    if (stale.length === 0) return 0;
    const expired = await store.tickets.expireAbandoned(queue.id, stale, iso(now));
    await index.end(queue.id, expired, "expired", now);
    metrics.expired.inc({ ...metrics.labels(queue.id, queue.mode), reason: "abandoned" }, expired.length);
    // Stale in the index but not waiting in the record (an index update was missed): put them right, or
    // they would sit at the front of every abandonment round.
    const done = new Set(expired);
    await settleWaitingEntries(
      store,
      index,
      queue.id,
      stale.filter((seq) => !done.has(seq)),
      now,
    );
    return expired.length;
  }

  /** Released visitors not seen at the site within the queue's release lifetime. */
  private async unseen(queue: ActiveQueue, now: number): Promise<number> {
    const { index, store, metrics } = this.deps;
    const unseen = await index.unseen(queue.id, now - queue.release_ttl_seconds * 1000, EXPIRY_BATCH);
    if (unseen.length === 0) return 0;
    const expired = await store.tickets.expireUnseen(queue.id, unseen, iso(now));
    await index.end(queue.id, expired, "expired", now);
    metrics.expired.inc({ ...metrics.labels(queue.id, queue.mode), reason: "not_seen" }, expired.length);
    // Seen by the site in the meantime (the record knows): stop asking about them.
    const kept = new Set(expired);
    for (const seq of unseen) if (!kept.has(seq)) await index.markSeen(queue.id, seq, now);
    return expired.length;
  }

  /** An admission over is a ticket no longer active: its visitor may queue again. */
  private async admissionsOver(queue: ActiveQueue, now: number): Promise<void> {
    const over = await this.deps.store.tickets.endAdmissions(
      queue.id,
      iso(now - queue.admission_ttl_seconds * 1000),
      iso(now),
      EXPIRY_BATCH,
    );
    if (over.length > 0) await this.deps.index.end(queue.id, over, "expired", now);
  }
}
