import type { Logger } from "pino";
import type { Clock } from "../../domain/clock.js";
import { planRelease, type RateState, unreleasedState } from "../../domain/release-plan.js";
import { iso } from "../../domain/time.js";
import type { QueueActivity } from "../../index/activity.js";
import type { QueueIndex } from "../../index/types.js";
import type { Metrics } from "../../observability/metrics.js";
import type { ActiveQueues } from "../../services/active-queues.js";
import type { AdmissionKeys } from "../../services/admission-keys.js";
import type { ActiveQueue, OutboxDraft, ReleaseRepository, ReleaseRound, Ticket } from "../../store/types.js";
import { releasedCallback } from "../callbacks/event.js";

export interface ReleaserDeps {
  releases: ReleaseRepository;
  index: QueueIndex;
  queues: ActiveQueues;
  admission: AdmissionKeys;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  /** Told once per queue per release batch, after the index has it (live updates listen). */
  activity?: QueueActivity;
}

/** How soon to look again at an application another worker is releasing. */
const LOCKED_RETRY_MS = 50;

interface Picked {
  queue: ActiveQueue;
  tickets: Ticket[];
}

interface Released {
  ticket: Ticket;
  accessToken: string;
  callback: OutboxDraft;
}

interface RoundResult {
  released: Released[];
  states: ReadonlyMap<string, RateState>;
  nextDueAt: number | undefined;
}

/**
 * Decides who leaves each queue and when, one application at a time. Safe with several workers: each
 * application's round is one record transaction under the application's release lock (see
 * ReleaseRepository), in which this decides and the record only reads and writes. The hot index is updated
 * after the commit; if that fails, a rebuild or the reconciler repairs it from the record.
 */
export class Releaser {
  constructor(private readonly deps: ReleaserDeps) {}

  /** Releases whoever is due now in every application; returns when to look again (undefined: idle). */
  async releaseDue(): Promise<number | undefined> {
    let nextDueAt: number | undefined;
    for (const [applicationId, queues] of this.deps.queues.byApplication()) {
      const due = await this.releaseApplication(applicationId, queues);
      if (due !== undefined) nextDueAt = nextDueAt === undefined ? due : Math.min(nextDueAt, due);
    }
    return nextDueAt;
  }

  private async releaseApplication(
    applicationId: string,
    queues: readonly ActiveQueue[],
  ): Promise<number | undefined> {
    const { index, releases, clock } = this.deps;
    const waiting = new Map<string, number>();
    for (const queue of queues) waiting.set(queue.id, await index.waitingCount(queue.id));
    if ([...waiting.values()].every((count) => count === 0)) return undefined;
    const now = clock.now();
    const result = await releases.withApplicationLock(applicationId, (round) =>
      this.round(round, applicationId, queues, waiting, now),
    );
    if (result === undefined) return now + LOCKED_RETRY_MS;
    await this.afterCommit(queues, result, now);
    // The record's signing key was new to this process (rotated elsewhere, the change event missed): reload
    // the keys now, outside the transaction, so this process also stops honouring any key revoked with it.
    await this.deps.admission.refreshIfOutdated().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "could not reload signing keys");
    });
    return result.nextDueAt;
  }

  private async round(
    round: ReleaseRound,
    applicationId: string,
    queues: readonly ActiveQueue[],
    waiting: ReadonlyMap<string, number>,
    now: number,
  ): Promise<RoundResult> {
    const queueIds = queues.map((queue) => queue.id);
    const stored = await round.rateStates([applicationId, ...queueIds]);
    const waitingSince = await round.waitingSince(queueIds);
    const stateOf = (id: string) => stored.get(id) ?? unreleasedState();
    const plan = planRelease(
      {
        applicationId,
        perMinute: queues[0]?.application_rate ?? null,
        state: stateOf(applicationId),
      },
      queues.map((queue) => ({
        queueId: queue.id,
        perMinute: queue.max_users_per_minute,
        priority: queue.priority,
        state: stateOf(queue.id),
        waiting: waiting.get(queue.id) ?? 0,
        waitingSince: waitingSince.get(queue.id),
      })),
      now,
    );
    const byId = new Map(queues.map((queue) => [queue.id, queue]));
    const picked: Picked[] = [];
    for (const [queueId, count] of plan.counts) {
      const queue = byId.get(queueId);
      if (queue !== undefined) picked.push({ queue, tickets: await round.oldestWaiting(queueId, count) });
    }
    const released = await this.admit(round, picked, now);
    await round.markReleased(
      released.map(({ ticket, accessToken }) => ({ id: ticket.id, access_token: accessToken })),
      iso(now),
    );
    await round.addCallbacks(
      released.map(({ callback }) => callback),
      iso(now),
    );
    const actual = new Map<string, number>();
    for (const { ticket } of released) actual.set(ticket.queue_id, (actual.get(ticket.queue_id) ?? 0) + 1);
    const states = plan.settle(actual);
    await round.saveRateStates(states);
    return { released, states, nextDueAt: plan.nextDueAt };
  }

  /** Signs each picked visitor's admission with the record's current key, and drafts its callback. */
  private async admit(round: ReleaseRound, picked: readonly Picked[], now: number): Promise<Released[]> {
    if (picked.every(({ tickets }) => tickets.length === 0)) return [];
    const key = await round.signingKey();
    if (key === undefined) throw new Error("no admission signing key in the record");
    const released: Released[] = [];
    for (const { queue, tickets } of picked) {
      for (const ticket of tickets) {
        const accessToken = await this.deps.admission.sign(key, {
          queueId: queue.id,
          applicationId: queue.application_id,
          visitorId: ticket.visitor_id,
          ticketId: ticket.id,
          seq: ticket.seq,
          issuedAt: now,
          ttlSeconds: queue.admission_ttl_seconds,
        });
        released.push({ ticket, accessToken, callback: releasedCallback(queue, ticket, accessToken, now) });
      }
    }
    return released;
  }

  private async afterCommit(queues: readonly ActiveQueue[], result: RoundResult, now: number): Promise<void> {
    const { index, metrics } = this.deps;
    for (const queue of queues) {
      const mine = result.released.filter(({ ticket }) => ticket.queue_id === queue.id);
      if (mine.length > 0) {
        await index.markReleased(
          queue.id,
          mine.map(({ ticket, accessToken }) => ({ seq: ticket.seq, accessToken, releasedAt: now })),
          now,
        );
        metrics.released.inc(metrics.labels(queue.id, queue.mode), mine.length);
        this.deps.activity?.notify(queue.id);
      }
      await this.deps.queues.publish(queue, result.states.get(queue.id)?.meter);
    }
  }
}
