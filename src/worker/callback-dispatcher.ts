import type { Logger } from "pino";
import type { CallbackSender } from "../callbacks/sender.js";
import { SIGNATURE_HEADER, signatureHeader } from "../callbacks/signature.js";
import { retryDelayMs } from "../domain/backoff.js";
import type { Clock } from "../domain/clock.js";
import { decryptAtRest } from "../domain/secrets.js";
import { iso } from "../domain/time.js";
import type { Metrics } from "../observability/metrics.js";
import type { OutboxEntry, Store } from "../store/types.js";

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 300_000 };

export interface DispatcherDeps {
  store: Store;
  sender: CallbackSender;
  atRestKey: Buffer;
  clock: Clock;
  metrics: Metrics;
  logger: Logger;
  retry?: RetryPolicy;
  random?: () => number;
  /** How long a claimed entry is ours before another worker may take it over (a crashed worker). */
  leaseMs?: number;
  batchSize?: number;
}

/**
 * Delivers the callback outbox: at least once, signed, retried with exponential backoff and jitter, and
 * dead-lettered (a callback error record) after the last attempt. Entries are claimed with a lease, so
 * with several workers each entry is being sent by one worker at a time.
 */
export class CallbackDispatcher {
  private readonly retry: RetryPolicy;

  constructor(private readonly deps: DispatcherDeps) {
    this.retry = deps.retry ?? DEFAULT_RETRY;
  }

  /** Sends every entry due now; returns how many were attempted. */
  async dispatchDue(): Promise<number> {
    const now = this.deps.clock.now();
    const claimed = await this.deps.store.outbox.claimDue(
      iso(now),
      iso(now + (this.deps.leaseMs ?? 60_000)),
      this.deps.batchSize ?? 50,
    );
    await Promise.all(claimed.map((entry) => this.deliver(entry)));
    return claimed.length;
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const { store, sender, clock, metrics, logger } = this.deps;
    const attempts = entry.attempts + 1;
    const queue = metrics.queue(entry.queue_id);
    const app = await store.applications.findById(entry.application_id);
    if (app === undefined) {
      await store.outbox.markDead(entry, attempts, "", "application deleted", null, iso(clock.now()));
      metrics.callbackFailure.inc({ queue, final: "true" });
      return;
    }
    const secret = decryptAtRest(this.deps.atRestKey, app.webhook_secret_enc);
    const result = await sender.send(app.callback_url, entry.payload, {
      [SIGNATURE_HEADER]: signatureHeader(secret, entry.payload, clock.now() / 1000),
      "x-anteroom-event": entry.event,
      "x-anteroom-event-id": entry.id,
    });
    metrics.callbackDuration.observe({ queue }, result.durationMs / 1000);
    const now = clock.now();
    if (result.ok) {
      await store.outbox.markDelivered(entry.id, attempts, result.status ?? 200, iso(now));
      metrics.callbackSuccess.inc({ queue });
      return;
    }
    const error = result.error ?? `HTTP ${result.status ?? "?"}`;
    const final = attempts >= this.retry.maxAttempts;
    metrics.callbackFailure.inc({ queue, final: final ? "true" : "false" });
    if (final) {
      await store.outbox.markDead(entry, attempts, app.callback_url, error, result.status ?? null, iso(now));
      logger.warn({ eventId: entry.id, queueId: entry.queue_id, attempts, error }, "callback dead-lettered");
      return;
    }
    const delay = retryDelayMs(
      attempts,
      this.retry.baseDelayMs,
      this.retry.maxDelayMs,
      this.deps.random ?? Math.random,
    );
    await store.outbox.scheduleRetry(entry.id, attempts, iso(now + delay), error, result.status ?? null);
  }
}
