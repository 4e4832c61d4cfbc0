import type { Logger } from "pino";
import { retryDelayMs } from "../../domain/backoff.js";
import type { Clock } from "../../domain/clock.js";
import { decryptAtRest } from "../../domain/secrets.js";
import { iso } from "../../domain/time.js";
import type { Metrics } from "../../observability/metrics.js";
import type { OutboxEntry, Store } from "../../store/types.js";
import type { CallbackSender, DeliveryResult } from "./sender.js";
import { SIGNATURE_HEADER, signatureHeader } from "./signature.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 300_000 };

/** Deliveries one process keeps in flight at once: in all, and to any one application. */
export interface CallbackConcurrency {
  total: number;
  perApplication: number;
}

export const DEFAULT_CONCURRENCY: CallbackConcurrency = { total: 64, perApplication: 8 };

export interface DispatcherDeps {
  store: Store;
  sender: CallbackSender;
  /** Keys that open webhook secrets, the current one first (see DerivedKeys.atRestReaders). */
  atRestKeys: readonly Buffer[];
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  retry?: RetryPolicy;
  random?: () => number;
  /** How long a claimed entry is ours before another worker may take it over (a crashed worker). */
  leaseMs?: number;
  concurrency?: CallbackConcurrency;
}

/**
 * What one attempt came to: the endpoint's answer (or why there was none), or no application to send to,
 * which no retry can change.
 */
type AttemptOutcome =
  | { kind: "attempted"; url: string; result: DeliveryResult }
  | { kind: "application_deleted" };

/** What is recorded for an entry whose application was deleted: no URL, no answer. */
const NOTHING_SENT: { url: string; result: DeliveryResult } = {
  url: "",
  result: { ok: false, error: "application deleted", durationMs: 0 },
};

/**
 * Delivers the callback outbox: at least once, signed, retried with exponential backoff and jitter, and
 * dead-lettered (a callback error record) after the last attempt. Entries are claimed with a lease, so
 * with several workers each entry is being sent by one worker at a time.
 *
 * Deliveries run concurrently and independently: a claim takes only as many entries as there are free
 * slots, in all and per application, so an application whose endpoint is slow or hangs holds at most its
 * own few slots (until the send timeout) while every other application's callbacks keep flowing.
 */
export class CallbackDispatcher {
  private readonly retry: RetryPolicy;
  private readonly concurrency: CallbackConcurrency;
  private readonly inFlight = new Set<Promise<void>>();
  /** Deliveries in flight by application id. */
  private readonly busy = new Map<string, number>();
  /** The claim in progress: claims run one at a time, each counting the slots the previous one left. */
  private claiming: Promise<unknown> = Promise.resolve();
  private settled: () => void = () => {};

  constructor(private readonly deps: DispatcherDeps) {
    this.retry = deps.retry ?? DEFAULT_RETRY;
    this.concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
  }

  /** Called each time a delivery settles, i.e. a slot frees (the worker loop claims again at once). */
  onSettled(listener: () => void): void {
    this.settled = listener;
  }

  /**
   * Claims due entries, as many as there are free slots, and starts sending them without waiting for
   * them. Resolves once they are claimed, to the deliveries started; each of those resolves when its
   * outcome is recorded, and never rejects.
   */
  async startDue(): Promise<Promise<void>[]> {
    const claim = this.claiming.then(() => this.claimAndStart());
    this.claiming = claim.catch(() => undefined);
    return claim;
  }

  /**
   * Sends the entries due now (as many as there are free slots for) and waits until those attempts are
   * recorded; returns how many were attempted.
   */
  async dispatchDue(): Promise<number> {
    const started = await this.startDue();
    await Promise.all(started);
    return started.length;
  }

  /** Waits for every delivery in flight (each is bounded by the sender's timeout). */
  async drain(): Promise<void> {
    await this.claiming;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private async claimAndStart(): Promise<Promise<void>[]> {
    const free = this.concurrency.total - this.inFlight.size;
    if (free <= 0) return [];
    const now = this.deps.clock.now();
    const lease = iso(now + (this.deps.leaseMs ?? 60_000));
    const claimed = await this.deps.store.outbox.claimDue(iso(now), lease, free, {
      perApplication: this.concurrency.perApplication,
      inFlight: new Map(this.busy),
    });
    return claimed.map((entry) => this.start(entry, lease));
  }

  private start(entry: OutboxEntry, lease: string): Promise<void> {
    const appId = entry.application_id;
    this.busy.set(appId, (this.busy.get(appId) ?? 0) + 1);
    const delivery = this.deliver(entry, lease)
      .catch((error: unknown) => {
        // The outcome could not be recorded (the record is down): the entry stays claimed, and is sent
        // again once its lease ends.
        this.deps.logger.error({ err: error, eventId: entry.id }, "could not record a callback attempt");
      })
      .finally(() => {
        const left = (this.busy.get(appId) ?? 1) - 1;
        if (left > 0) this.busy.set(appId, left);
        else this.busy.delete(appId);
        this.inFlight.delete(delivery);
        this.settled();
      });
    this.inFlight.add(delivery);
    return delivery;
  }

  /** One attempt; never throws (a failure to even try counts as a failed attempt, retried as any other). */
  private async attempt(entry: OutboxEntry): Promise<AttemptOutcome> {
    const { store, sender, clock } = this.deps;
    try {
      const app = await store.applications.findById(entry.application_id);
      if (app === undefined) return { kind: "application_deleted" };
      const secret = decryptAtRest(this.deps.atRestKeys, app.webhook_secret_enc);
      const result = await sender.send(app.callback_url, entry.payload, {
        [SIGNATURE_HEADER]: signatureHeader(secret, entry.payload, clock.now() / 1000),
        "x-anteroom-event": entry.event,
        "x-anteroom-event-id": entry.id,
      });
      return { kind: "attempted", url: app.callback_url, result };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        kind: "attempted",
        url: "",
        result: { ok: false, error: `could not send: ${message}`, durationMs: 0 },
      };
    }
  }

  private async deliver(entry: OutboxEntry, lease: string): Promise<void> {
    const { store, clock, metrics, logger } = this.deps;
    const attempts = entry.attempts + 1;
    const queue = metrics.queue(entry.queue_id);
    const outcome = await this.attempt(entry);
    const deleted = outcome.kind === "application_deleted";
    const { url, result } = deleted ? NOTHING_SENT : outcome;
    metrics.callbackDuration.observe({ queue }, result.durationMs / 1000);
    const now = clock.now();
    let owned: boolean;
    if (result.ok) {
      owned = await store.outbox.markDelivered(
        entry.id,
        lease,
        attempts,
        result.status ?? 200,
        iso(now),
        result.durationMs,
      );
      if (owned) metrics.callbackSuccess.inc({ queue });
    } else {
      const error = result.error ?? `HTTP ${result.status ?? "?"}`;
      const final = deleted || attempts >= this.retry.maxAttempts;
      if (final) {
        owned = await store.outbox.markDead(
          entry,
          lease,
          attempts,
          url,
          error,
          result.status ?? null,
          iso(now),
        );
        if (owned)
          logger.warn(
            { eventId: entry.id, queueId: entry.queue_id, attempts, error },
            "callback dead-lettered",
          );
      } else {
        const delay = retryDelayMs(
          attempts,
          this.retry.baseDelayMs,
          this.retry.maxDelayMs,
          this.deps.random ?? Math.random,
        );
        owned = await store.outbox.scheduleRetry(
          entry.id,
          lease,
          attempts,
          iso(now + delay),
          error,
          result.status ?? null,
        );
      }
      if (owned) metrics.callbackFailure.inc({ queue, final: final ? "true" : "false" });
    }
    if (!owned) {
      // The lease ran out and another worker took the entry over: its outcome stands, not ours.
      logger.warn(
        { eventId: entry.id },
        "callback lease lost before the attempt finished; outcome left to its new owner",
      );
    }
  }
}
