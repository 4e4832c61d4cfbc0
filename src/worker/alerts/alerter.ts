import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  type AlertKind,
  type AlertStatus,
  type Component,
  evaluateConditions,
  planTransitions,
  type QueueObservation,
  trackFailure,
} from "../../domain/alerts.js";
import { retryDelayMs } from "../../domain/backoff.js";
import type { Clock } from "../../domain/clock.js";
import type { QueueIndex } from "../../index/types.js";
import type { ActiveQueues } from "../../services/active-queues.js";
import type { AlertChannelName, AlertRow, ClaimedNotification, Store } from "../../store/types.js";
import type { AlertChannel } from "./channels.js";
import type { AlertMessage } from "./message.js";

export interface AlertSettings {
  /** QUEUE_THRESHOLD. */
  defaultThreshold: number;
  /** ALERT_COOLDOWN_SECONDS, in ms. */
  cooldownMs: number;
  /** Dead letters this recent count as "since the last look" (the same window for every worker). */
  deadLetterWindowMs: number;
  /** How long a worker owns a notification it is sending. */
  leaseMs: number;
  /** Attempts per notification before it is given up. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  defaultThreshold: 100,
  cooldownMs: 900_000,
  deadLetterWindowMs: 300_000,
  leaseMs: 60_000,
  maxAttempts: 10,
  retryBaseMs: 5_000,
  retryMaxMs: 600_000,
};

export interface AlerterDeps {
  store: Pick<Store, "alerts" | "heartbeats">;
  index: Pick<QueueIndex, "waitingCount" | "waitingPage">;
  queues: Pick<ActiveQueues, "all">;
  channels: readonly AlertChannel[];
  clock: Clock;
  logger: Logger;
  settings?: Partial<AlertSettings>;
  random?: () => number;
  /** Health checks of the record and the index (they throw when unreachable); a missing one counts healthy. */
  health?: Partial<Record<Component, () => Promise<void>>>;
}

/** Alerts about queues, which need the index to observe: kept as they are while the index is down. */
const QUEUE_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>(["queue_length", "release_stalled"]);

const CLAIM_BATCH = 20;

/**
 * The worker's alert task, in two rounds the loop runs apart from release: `evaluate` observes the queues
 * (the hot index), the dead letters (the record) and the release's progress, and records the alerts that
 * fire or resolve; `deliver` claims due notifications and sends them. Any number of workers may run both:
 * the record keeps one firing alert per kind and subject, one notification per transition and channel, and
 * each notification is claimed by one worker at a time.
 */
export class Alerter {
  private readonly settings: AlertSettings;
  /** Per queue: the head of the line last seen, and since when it has not moved. */
  private readonly heads = new Map<string, { head: number | undefined; since: number }>();
  private readonly channels: Map<AlertChannelName, AlertChannel>;
  /** Per component: since when its health check has failed without a break (in memory, per worker). */
  private readonly failing: Record<Component, number | null> = { record: null, index: null };
  /** The record_down alert this worker sent straight to the channels (the record could not hold it). */
  private recordDown: { id: string; failingSince: number } | undefined;

  constructor(private readonly deps: AlerterDeps) {
    this.settings = { ...DEFAULT_ALERT_SETTINGS, ...deps.settings };
    this.channels = new Map(deps.channels.map((channel) => [channel.name, channel]));
  }

  /** One evaluation: returns how many alerts fired and resolved here. */
  async evaluate(): Promise<{ fired: number; resolved: number }> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const [recordUp, indexUp] = await Promise.all([this.probe("record", now), this.probe("index", now)]);
    await this.checkRecordDown(now, recordUp);
    // Nothing can be read or recorded without the record: record_down went straight to the channels.
    if (!recordUp) return { fired: 0, resolved: 0 };
    const { cooldownMs, deadLetterWindowMs, defaultThreshold } = this.settings;
    const [thresholds, deadLetters, queues, heartbeats] = await Promise.all([
      store.alerts.thresholds(),
      store.alerts.deadLettersSince(new Date(now - deadLetterWindowMs).toISOString()),
      indexUp ? this.observeQueues(now) : Promise.resolve([]),
      store.heartbeats.list(),
    ]);
    for (const queue of queues) queue.threshold = thresholds.get(queue.queueId) ?? null;
    const workers = heartbeats.map((beat) => ({
      workerId: beat.id,
      lastSeenAt: Date.parse(beat.last_seen_at),
    }));
    const components = [{ component: "index" as const, failingSince: this.failing.index }];
    const conditions = evaluateConditions({
      at: now,
      defaultThreshold,
      queues,
      deadLetters,
      workers,
      components,
    });
    const recent = await store.alerts.recent(new Date(now - cooldownMs).toISOString());
    // The index down, the queues were not observed: their alerts neither fire nor resolve meanwhile.
    const statuses = recent.map(toStatus).filter((status) => indexUp || !QUEUE_KINDS.has(status.kind));
    const transitions = planTransitions(statuses, conditions, now, cooldownMs);
    const channels = [...this.channels.keys()];
    const at = new Date(now).toISOString();
    let fired = 0;
    let resolved = 0;
    for (const transition of transitions) {
      if (transition.type === "fire") {
        const { condition } = transition;
        const alert = await store.alerts.fire(
          {
            kind: condition.kind,
            subject: condition.subject,
            application_id: condition.applicationId,
            details: condition.details,
          },
          channels,
          at,
        );
        if (alert !== undefined) {
          fired++;
          this.deps.logger.warn({ alert: alert.id, kind: alert.kind, subject: alert.subject }, "alert fired");
        }
      } else if (await store.alerts.resolve(transition.alert.id, channels, at)) {
        resolved++;
        const { id, kind, subject } = transition.alert;
        this.deps.logger.info({ alert: id, kind, subject }, "alert resolved");
      }
    }
    return { fired, resolved };
  }

  /** Runs one health check and tracks since when it has failed; returns whether it passed. */
  private async probe(component: Component, now: number): Promise<boolean> {
    const check = this.deps.health?.[component];
    let healthy = true;
    if (check !== undefined) {
      try {
        await check();
      } catch (err) {
        healthy = false;
        const error = (err instanceof Error ? err.message : String(err)).slice(0, 200);
        this.deps.logger.warn({ component, error }, "health check failed");
      }
    }
    this.failing[component] = trackFailure(this.failing[component], healthy, now);
    return healthy;
  }

  /**
   * record_down cannot be written to the record it is about: each worker that sees the record fail for 30 s
   * sends it straight to the channels (once per outage, no retry, admins only), and its resolution when the
   * record answers again. It never appears in the record's alert history.
   */
  private async checkRecordDown(now: number, recordUp: boolean): Promise<void> {
    if (!recordUp && this.recordDown === undefined) {
      const [condition] = evaluateConditions({
        at: now,
        defaultThreshold: 0,
        queues: [],
        deadLetters: [],
        components: [{ component: "record", failingSince: this.failing.record }],
      });
      if (condition === undefined) return;
      const id = randomUUID();
      this.recordDown = { id, failingSince: this.failing.record ?? now };
      this.deps.logger.error({ alert: id, kind: "record_down" }, "alert fired (record unreachable)");
      await this.sendDirect({
        alertId: id,
        kind: "record_down",
        subject: "record",
        applicationId: null,
        event: "fired",
        at: now,
        details: condition.details,
      });
    } else if (recordUp && this.recordDown !== undefined) {
      const { id, failingSince } = this.recordDown;
      this.recordDown = undefined;
      this.deps.logger.info({ alert: id, kind: "record_down" }, "alert resolved (record reachable)");
      await this.sendDirect({
        alertId: id,
        kind: "record_down",
        subject: "record",
        applicationId: null,
        event: "resolved",
        at: now,
        details: {
          failingSince: new Date(failingSince).toISOString(),
          failingSeconds: Math.floor((now - failingSince) / 1000),
        },
      });
    }
  }

  private async sendDirect(message: AlertMessage): Promise<void> {
    await Promise.all(
      [...this.channels.values()].map(async (channel) => {
        try {
          await channel.send(message, []);
        } catch (err) {
          const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
          this.deps.logger.error({ alert: message.alertId, channel: channel.name, error }, "alert not sent");
        }
      }),
    );
  }

  private async observeQueues(now: number): Promise<QueueObservation[]> {
    const live = this.deps.queues.all();
    const seen = new Set<string>();
    const observed = await Promise.all(
      live.map(async (queue): Promise<QueueObservation> => {
        seen.add(queue.id);
        const [waiting, page] = await Promise.all([
          this.deps.index.waitingCount(queue.id),
          this.deps.index.waitingPage(queue.id, 0, 1),
        ]);
        const head = page[0];
        let tracked = this.heads.get(queue.id);
        if (tracked === undefined || tracked.head !== head) {
          tracked = { head, since: now };
          this.heads.set(queue.id, tracked);
        }
        const rate = Math.min(queue.max_users_per_minute, queue.application_rate ?? Number.POSITIVE_INFINITY);
        return {
          queueId: queue.id,
          applicationId: queue.application_id,
          waiting,
          threshold: null,
          paused: !(rate > 0),
          releaseIntervalMs: rate > 0 ? 60_000 / rate : Number.POSITIVE_INFINITY,
          // The head of the line moves when a visitor is released (or leaves): "nothing released" is a
          // head that has not moved since.
          lastReleaseAt: null,
          waitingSince: head === undefined ? null : tracked.since,
        };
      }),
    );
    for (const id of this.heads.keys()) if (!seen.has(id)) this.heads.delete(id);
    return observed;
  }

  /** One delivery round: claims due notifications and sends them; returns how many were sent. */
  async deliver(): Promise<number> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const claimed = await store.alerts.claimNotifications(
      new Date(now).toISOString(),
      new Date(now + this.settings.leaseMs).toISOString(),
      CLAIM_BATCH,
    );
    const sent = await Promise.all(claimed.map((notification) => this.send(notification)));
    return sent.filter(Boolean).length;
  }

  private async send(notification: ClaimedNotification): Promise<boolean> {
    const { store, clock, logger } = this.deps;
    const attempts = notification.attempts + 1;
    const channel = this.channels.get(notification.channel);
    const log = {
      notification: notification.id,
      alert: notification.alert.id,
      channel: notification.channel,
    };
    try {
      if (channel === undefined) throw new Error(`channel ${notification.channel} is not configured`);
      const { alert } = notification;
      const recipients =
        channel.name === "email" && alert.application_id !== null
          ? await store.alerts.recipients(alert.application_id)
          : [];
      await channel.send(toMessage(notification), recipients);
      await store.alerts.markSent(
        notification.id,
        notification.lockedUntil,
        attempts,
        new Date(clock.now()).toISOString(),
      );
      logger.info({ ...log, attempts }, "alert notification sent");
      return true;
    } catch (err) {
      // Channels' errors carry no credentials (see channels.ts); only the message is logged.
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      if (attempts >= this.settings.maxAttempts) {
        await store.alerts.markFailed(notification.id, notification.lockedUntil, attempts, error);
        logger.error({ ...log, attempts, error }, "alert notification given up");
      } else {
        const { retryBaseMs, retryMaxMs } = this.settings;
        const delay = retryDelayMs(attempts, retryBaseMs, retryMaxMs, this.deps.random ?? Math.random);
        const next = new Date(clock.now() + delay).toISOString();
        await store.alerts.scheduleRetry(notification.id, notification.lockedUntil, attempts, next, error);
        logger.warn({ ...log, attempts, error, retryInMs: delay }, "alert notification failed; will retry");
      }
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((channel) => channel.close()));
  }
}

function toStatus(row: AlertRow): AlertStatus {
  return {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    state: row.state,
    firedAt: Date.parse(row.fired_at),
    resolvedAt: row.resolved_at === null ? null : Date.parse(row.resolved_at),
  };
}

function toMessage(notification: ClaimedNotification): AlertMessage {
  const { alert, event } = notification;
  return {
    alertId: alert.id,
    kind: alert.kind,
    subject: alert.subject,
    applicationId: alert.application_id,
    event,
    at: Date.parse(event === "fired" ? alert.fired_at : (alert.resolved_at ?? alert.fired_at)),
    details: alert.details,
  };
}
