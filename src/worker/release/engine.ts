import type { Logger } from "pino";
import type { Clock } from "../../domain/clock.js";
import { configuredPerMinute, measuredPerMinute } from "../../domain/estimate.js";
import { planRelease, type RateState, unreleasedState } from "../../domain/release-plan.js";
import { iso } from "../../domain/time.js";
import type { QueueIndex } from "../../index/types.js";
import type { Metrics } from "../../observability/metrics.js";
import type { AdmissionKeys } from "../../services/admission-keys.js";
import type { ActiveQueue, SigningKeyRow, Store, Ticket } from "../../store/types.js";
import { releasedCallback } from "../callbacks/event.js";
import { settleWaitingEntries } from "../upkeep/settle.js";

export interface EngineDeps {
  store: Store;
  index: QueueIndex;
  admission: AdmissionKeys;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
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
 * The release engine: decides who leaves each queue and when, and expires visitors who left without
 * saying so. Safe with several workers: each application's release is one record transaction that holds
 * the application's rate row (see ReleaseRepository). The hot index is updated after the commit; if that
 * fails, a rebuild or the reconciler repairs it from the record.
 */
export class ReleaseEngine {
  private queues = new Map<string, ActiveQueue>();
  private byApplication = new Map<string, ActiveQueue[]>();

  constructor(private readonly deps: EngineDeps) {}

  queue(queueId: string): ActiveQueue | undefined {
    return this.queues.get(queueId);
  }

  activeQueues(): ActiveQueue[] {
    return [...this.queues.values()];
  }

  /** Reloads the live queues and their settings; forgets deleted ones in the index. */
  async refresh(): Promise<void> {
    const active = await this.deps.store.queues.active();
    const next = new Map(active.map((queue) => [queue.id, queue]));
    for (const id of this.queues.keys()) if (!next.has(id)) await this.deps.index.drop(id);
    const byApplication = new Map<string, ActiveQueue[]>();
    for (const queue of active) {
      const list = byApplication.get(queue.application_id) ?? [];
      list.push(queue);
      byApplication.set(queue.application_id, list);
      const previous = this.queues.get(queue.id);
      if (previous === undefined || settingsChanged(previous, queue))
        await this.publishMeta(queue, undefined);
    }
    this.queues = next;
    this.byApplication = byApplication;
  }

  private async publishMeta(queue: ActiveQueue, meter: RateState["meter"] | undefined): Promise<void> {
    await this.deps.index.setMeta(queue.id, {
      configuredPerMinute: configuredPerMinute(queue.max_users_per_minute, queue.application_rate),
      measuredPerMinute: meter === undefined ? undefined : measuredPerMinute(meter),
      abandonAfterSeconds: queue.abandon_after_seconds,
    });
  }

  /** Releases whoever is due now in every application; returns when to look again (undefined: idle). */
  async releaseDue(): Promise<number | undefined> {
    let nextDueAt: number | undefined;
    for (const [applicationId, queues] of this.byApplication) {
      const due = await this.releaseApplication(applicationId, queues);
      if (due !== undefined) nextDueAt = nextDueAt === undefined ? due : Math.min(nextDueAt, due);
    }
    return nextDueAt;
  }

  private async releaseApplication(
    applicationId: string,
    queues: ActiveQueue[],
  ): Promise<number | undefined> {
    const { index, store, clock } = this.deps;
    const waiting = new Map<string, number>();
    for (const queue of queues) waiting.set(queue.id, await index.waitingCount(queue.id));
    if ([...waiting.values()].every((count) => count === 0)) return undefined;
    const now = clock.now();
    const first = queues[0];
    const applicationRate = first?.application_rate ?? null;
    let nextDueAt: number | undefined;
    const result = await store.releases.releaseApplication({
      applicationId,
      queueIds: queues.map((queue) => queue.id),
      now,
      plan: (states, waitingSince) => {
        const stateOf = (id: string): RateState => states.get(id) ?? unreleasedState();
        const plan = planRelease(
          { applicationId, perMinute: applicationRate, state: stateOf(applicationId) },
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
        nextDueAt = plan.nextDueAt;
        return { counts: plan.counts, states: plan.settle };
      },
      admit: (ticket, key) => this.admit(ticket, key, applicationId, now),
    });
    if (result === undefined) return now + 50; // another worker holds this application right now
    await this.afterRelease(queues, result.released, result.states, now);
    // The record's signing key was new to this process (rotated elsewhere, the change event missed): reload
    // the keys now, outside the transaction, so this process also stops honouring any key revoked with it.
    await this.deps.admission.refreshIfOutdated().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "could not reload signing keys");
    });
    return nextDueAt;
  }

  private async admit(ticket: Ticket, key: SigningKeyRow, applicationId: string, now: number) {
    const queue = this.queues.get(ticket.queue_id);
    const accessToken = await this.deps.admission.sign(key, {
      queueId: ticket.queue_id,
      applicationId,
      visitorId: ticket.visitor_id,
      ticketId: ticket.id,
      seq: ticket.seq,
      issuedAt: now,
      ttlSeconds: queue?.admission_ttl_seconds ?? 3600,
    });
    // The queue is one of this application's, so it is active unless a refresh just dropped it.
    const owner = { application_id: applicationId, mode: queue?.mode ?? "live" };
    return { accessToken, outbox: releasedCallback(owner, ticket, accessToken, now) };
  }

  private async afterRelease(
    queues: ActiveQueue[],
    released: Ticket[],
    states: ReadonlyMap<string, RateState>,
    now: number,
  ): Promise<void> {
    for (const queue of queues) {
      const mine = released.filter((ticket) => ticket.queue_id === queue.id);
      if (mine.length > 0) {
        await this.deps.index.markReleased(
          queue.id,
          mine.map((ticket) => ({
            seq: ticket.seq,
            accessToken: ticket.access_token ?? "",
            releasedAt: now,
          })),
          now,
        );
        this.deps.metrics.released.inc(this.deps.metrics.labels(queue.id, queue.mode), mine.length);
      }
      await this.publishMeta(queue, states.get(queue.id)?.meter);
    }
  }

  /** Expires waiting visitors who stopped polling and released visitors never seen at the site. */
  async expire(): Promise<void> {
    const { index, store, clock, metrics } = this.deps;
    const now = clock.now();
    for (const queue of this.queues.values()) {
      const labels = metrics.labels(queue.id, queue.mode);
      const stale = await index.abandoned(queue.id, now - queue.abandon_after_seconds * 1000, EXPIRY_BATCH);
      if (stale.length > 0) {
        const expired = await store.tickets.expireAbandoned(queue.id, stale, iso(now));
        await index.end(queue.id, expired, "expired", now);
        metrics.expired.inc({ ...labels, reason: "abandoned" }, expired.length);
        // Stale in the index but not waiting in the record (an index update was missed): put them right,
        // or they would sit at the front of every abandonment round.
        const done = new Set(expired);
        await settleWaitingEntries(
          store,
          index,
          queue.id,
          stale.filter((seq) => !done.has(seq)),
          now,
        );
      }
      const unseen = await index.unseen(queue.id, now - queue.release_ttl_seconds * 1000, EXPIRY_BATCH);
      if (unseen.length > 0) {
        const expired = await store.tickets.expireUnseen(queue.id, unseen, iso(now));
        await index.end(queue.id, expired, "expired", now);
        metrics.expired.inc({ ...labels, reason: "not_seen" }, expired.length);
        // Seen by the site in the meantime (the record knows): stop asking about them.
        const kept = new Set(expired);
        for (const seq of unseen) if (!kept.has(seq)) await index.markSeen(queue.id, seq, now);
      }
      // An admission over is a ticket no longer active: its visitor may queue again.
      const admissionsOver = await store.tickets.endAdmissions(
        queue.id,
        iso(now - queue.admission_ttl_seconds * 1000),
        iso(now),
        EXPIRY_BATCH,
      );
      if (admissionsOver.length > 0) await index.end(queue.id, admissionsOver, "expired", now);
      const releasedRetention = Math.max(
        RELEASED_MIN_RETENTION_MS,
        queue.admission_ttl_seconds * 1000,
        queue.release_ttl_seconds * 1000,
      );
      await index.prune(queue.id, now - releasedRetention, now - ENDED_RETENTION_MS);
    }
  }
}

function settingsChanged(a: ActiveQueue, b: ActiveQueue): boolean {
  return (
    a.max_users_per_minute !== b.max_users_per_minute ||
    a.application_rate !== b.application_rate ||
    a.abandon_after_seconds !== b.abandon_after_seconds
  );
}
