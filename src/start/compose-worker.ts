import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { iso } from "../domain/time.js";
import type { WorkerIdentity } from "../store/types.js";
import { Alerter, type AlertSettings } from "../worker/alerts/alerter.js";
import {
  type AlertChannel,
  EmailChannel,
  type SmtpSettings,
  WebhookChannel,
} from "../worker/alerts/channels.js";
import type { WebhookFormat } from "../worker/alerts/message.js";
import {
  AnalyticsRollup,
  DEFAULT_ROLLUP_SETTINGS,
  PRUNE_EVERY_MS,
  ROLLUP_EVERY_MS,
} from "../worker/analytics/rollup.js";
import {
  type CallbackConcurrency,
  CallbackDispatcher,
  type RetryPolicy,
} from "../worker/callbacks/dispatcher.js";
import { type CallbackSender, createCallbackSender } from "../worker/callbacks/sender.js";
import { type LoopIntervals, WorkerLoop } from "../worker/loop.js";
import { Expiry } from "../worker/release/expiry.js";
import { Releaser } from "../worker/release/releaser.js";
import { IndexMaintenance } from "../worker/upkeep/maintenance.js";
import { rebuildQueue } from "../worker/upkeep/rebuild.js";
import type { ProcessBasics, ProcessParts } from "./process.js";

/** How often a worker looks for queues Redis lost, and compares record and index. */
const REBUILD_CHECK_MS = 1_000;
const RECONCILE_MS = 30_000;
/** How often a worker writes its heartbeat (dashboards call one silent for 60 s down). */
export const HEARTBEAT_MS = 5_000;
/** Heartbeats of workers gone this long are pruned (by any worker, about hourly). */
const HEARTBEAT_KEEP_MS = 86_400_000;
const HEARTBEAT_PRUNE_MS = 3_600_000;
/** How often a worker evaluates the alert conditions, and looks for alert notifications to send. */
const ALERT_EVALUATE_MS = 10_000;
const ALERT_DELIVER_MS = 2_000;

/** Alerting, from the configuration: the rules' settings and the channels that are configured. */
export interface AlertWiring {
  settings: Partial<AlertSettings>;
  /** SMTP_HOST and the rest; undefined: no e-mail. */
  smtp?: SmtpSettings;
  /** WEBHOOK_URL; undefined: no webhook. */
  webhook?: { url: string; format: WebhookFormat | "auto" };
}

export interface WorkerSettings {
  allowPrivateCallbacks: boolean;
  callbackLeaseMs: number;
  callbackTimeoutMs?: number;
  /** Callback deliveries in flight at once, in all and per application (default 64 and 8). */
  callbackConcurrency?: CallbackConcurrency;
  /** Alert rules and channels (none: alerts are still recorded, nothing is sent). */
  alerts?: AlertWiring;
  /** Days ended tickets are kept (default 30); analytics rollups are kept for good. */
  retentionDays?: number;
}

export interface WorkerDeps extends ProcessBasics {
  parts: ProcessParts;
  settings: WorkerSettings;
  /** Tests: a sender of their own, retry timing, jitter, loop intervals. */
  sender?: CallbackSender;
  retry?: RetryPolicy;
  random?: () => number;
  intervals?: LoopIntervals;
  /** Tests: alert channels of their own instead of the configured ones. */
  alertChannels?: AlertChannel[];
}

export interface WorkerProcess {
  releaser: Releaser;
  expiry: Expiry;
  dispatcher: CallbackDispatcher;
  alerter: Alerter;
  analytics: AnalyticsRollup;
  loop: WorkerLoop;
  /** Who this worker is in its heartbeats. */
  identity: WorkerIdentity;
  /** Writes one heartbeat now (the loop does every HEARTBEAT_MS). */
  beat(): Promise<void>;
  /** Loads the live queues and fills this process's hot index from the record; returns tickets loaded. */
  rebuildIndex(): Promise<number>;
  start(): void;
  close(): Promise<void>;
}

/**
 * The worker's composition root: release, expiry and callback delivery, driven by one loop; with Redis (a
 * shared index, so locks between workers) also the index's upkeep: rebuilding queues Redis lost, and
 * reconciling it with the record.
 */
export function composeWorker(deps: WorkerDeps): WorkerProcess {
  const { store, clock, logger, shared, parts, settings } = deps;
  const { index } = shared;
  const { metrics, queues, admission, activity } = parts;
  const releaser = new Releaser({
    releases: store.releases,
    index,
    queues,
    admission,
    clock,
    metrics,
    logger,
    activity,
  });
  const expiry = new Expiry({ store, index, queues, clock, metrics, activity });
  const sender =
    deps.sender ??
    createCallbackSender({
      allowPrivate: settings.allowPrivateCallbacks,
      timeoutMs: settings.callbackTimeoutMs ?? 5_000,
    });
  const dispatcher = new CallbackDispatcher({
    store,
    sender,
    atRestKeys: deps.keys.atRestReaders,
    clock,
    metrics,
    logger,
    leaseMs: settings.callbackLeaseMs,
    ...(deps.retry === undefined ? {} : { retry: deps.retry }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
    ...(settings.callbackConcurrency === undefined ? {} : { concurrency: settings.callbackConcurrency }),
  });
  const loop = new WorkerLoop({ queues, releaser, expiry, dispatcher }, clock, logger, deps.intervals);
  // Alerts run as tasks of their own: a slow mail server never delays a release.
  const indexCheck = shared.readiness.find((check) => check.name === "index");
  const alerter = new Alerter({
    store,
    index,
    queues,
    channels: deps.alertChannels ?? alertChannels(settings),
    clock,
    logger,
    settings: settings.alerts?.settings ?? {},
    health: {
      record: () => store.ping(),
      // The in-process index has no check of its own; Redis's is its readiness check.
      ...(indexCheck === undefined ? {} : { index: () => indexCheck.check() }),
    },
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  loop.addTask("alerts", ALERT_EVALUATE_MS, () => alerter.evaluate());
  // Analytics: hourly rollups of each queue's events, and pruning of tickets past the retention.
  const analytics = new AnalyticsRollup({
    store,
    index,
    queues,
    clock,
    logger,
    settings: { retentionDays: settings.retentionDays ?? DEFAULT_ROLLUP_SETTINGS.retentionDays },
  });
  loop.addTask("analytics-rollup", ROLLUP_EVERY_MS, () => analytics.rollUp());
  loop.addTask("ticket-prune", PRUNE_EVERY_MS, () => analytics.prune());
  loop.addTask("alert-notifications", ALERT_DELIVER_MS, () => alerter.deliver());
  if (shared.tryLock !== undefined) {
    const upkeep = new IndexMaintenance({
      store,
      index,
      queues,
      clock,
      logger,
      metrics,
      tryLock: shared.tryLock,
    });
    loop.addTask("index-rebuild", REBUILD_CHECK_MS, () => upkeep.ensureLoaded());
    loop.addTask("index-reconcile", RECONCILE_MS, () => upkeep.reconcileAll());
  }
  // The heartbeat: its own task, so a slow or failing write never holds up release (the loop logs a
  // failure and tries again with backoff); workers silent for a day are forgotten.
  const identity: WorkerIdentity = {
    id: randomUUID(),
    host: hostname(),
    pid: process.pid,
    started_at: iso(clock.now()),
  };
  const beat = () => store.heartbeats.beat(identity, iso(clock.now()));
  loop.addTask("heartbeat", HEARTBEAT_MS, beat);
  loop.addTask("heartbeat-prune", HEARTBEAT_PRUNE_MS, () =>
    store.heartbeats.prune(iso(clock.now() - HEARTBEAT_KEEP_MS)),
  );
  // A queue or application changed: release with its new settings from the next round.
  const unsubscribe = shared.events.local.subscribe((change) => {
    if (change.kind !== "keys") loop.requestRefresh();
  });
  return {
    releaser,
    expiry,
    dispatcher,
    alerter,
    analytics,
    loop,
    identity,
    beat,
    async rebuildIndex() {
      await queues.refresh();
      let loaded = 0;
      for (const queue of queues.all()) loaded += await rebuildQueue(store, index, queue.id, clock.now());
      return loaded;
    },
    start: () => loop.start(),
    async close() {
      unsubscribe();
      await loop.stop();
      // Deliveries started outside the loop (dispatchDue) still need the sender and the record.
      await dispatcher.drain();
      await sender.close();
      await alerter.close();
      // A clean stop: forget this worker's heartbeat so it does not raise worker_down (best effort).
      await store.heartbeats.remove(identity.id).catch((err: unknown) => {
        logger.warn({ err }, "could not remove the worker's heartbeat");
      });
    },
  };
}

function alertChannels(settings: WorkerSettings): AlertChannel[] {
  const channels: AlertChannel[] = [];
  const { smtp, webhook } = settings.alerts ?? {};
  if (smtp !== undefined) channels.push(new EmailChannel(smtp));
  if (webhook !== undefined) {
    const sender = createCallbackSender({ allowPrivate: settings.allowPrivateCallbacks, timeoutMs: 10_000 });
    channels.push(new WebhookChannel(webhook.url, webhook.format, sender));
  }
  return channels;
}
