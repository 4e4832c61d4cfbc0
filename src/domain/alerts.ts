/**
 * Alerts, as rules: which conditions hold in an observation of the system, and how an alert's state moves
 * (fire once, resolve once, a cooldown against flapping). Pure: the worker's alert task observes, the
 * record keeps the states, the channels send.
 */

export type AlertKind =
  | "queue_length"
  | "dead_letters"
  | "release_stalled"
  | "worker_down"
  | "record_down"
  | "index_down";
export type AlertState = "firing" | "resolved";

export const ALERT_KINDS: readonly AlertKind[] = [
  "queue_length",
  "dead_letters",
  "release_stalled",
  "worker_down",
  "record_down",
  "index_down",
];

/** A worker that was heartbeating and has been silent this long is down (as the dashboard counts it). */
export const WORKER_SILENT_MS = 60_000;

/** How many release intervals with visitors waiting and nothing released make a stalled release. */
export const STALL_INTERVALS = 3;

/** One queue, as the alert task sees it. */
export interface QueueObservation {
  queueId: string;
  applicationId: string;
  /** Visitors waiting now (the hot index's count). */
  waiting: number;
  /** The queue's own threshold (`alert_threshold`); null: the default. */
  threshold: number | null;
  /** A paused queue releases nothing on purpose: never stalled. */
  paused: boolean;
  /** Time between two releases at the configured rate, in ms. */
  releaseIntervalMs: number;
  /** The last release from this queue (ms since epoch); null: none yet. */
  lastReleaseAt: number | null;
  /** Since when visitors have been waiting without a break (ms since epoch); null: nobody waits. */
  waitingSince: number | null;
}

/** Callbacks dead-lettered since the last look, per application. */
export interface DeadLetterObservation {
  applicationId: string;
  count: number;
}

/** A record or index health check failing continuously this long is an alert (record_down, index_down). */
export const UNREACHABLE_MS = 30_000;

export type Component = "record" | "index";

/** One dependency's health, as the evaluating worker tracks it in memory. */
export interface ComponentObservation {
  component: Component;
  /** Since when its check has failed without a break (ms since epoch); null: healthy. */
  failingSince: number | null;
}

/** The failure tracking: the first failure's time is kept while the check keeps failing; a success clears it. */
export function trackFailure(failingSince: number | null, healthy: boolean, now: number): number | null {
  return healthy ? null : (failingSince ?? now);
}

/** One worker's heartbeat, as the record holds it. */
export interface WorkerObservation {
  workerId: string;
  /** Its last beat (ms since epoch). */
  lastSeenAt: number;
}

export interface Observation {
  at: number;
  defaultThreshold: number;
  queues: readonly QueueObservation[];
  deadLetters: readonly DeadLetterObservation[];
  /** Every worker heard from (pruned ones are gone: their alert resolves). */
  workers?: readonly WorkerObservation[];
  /** The record's and the index's health checks. */
  components?: readonly ComponentObservation[];
}

/** What identifies an alert: its kind and its subject (a queue's or application's id). */
export interface AlertKey {
  kind: AlertKind;
  subject: string;
}

export type AlertDetails = Record<string, string | number | boolean | null>;

/** A condition that holds now. */
export interface Condition extends AlertKey {
  applicationId: string | null;
  details: AlertDetails;
}

export function alertKeyString(key: AlertKey): string {
  return `${key.kind}:${key.subject}`;
}

/** The conditions that hold in an observation, one per alert key. */
export function evaluateConditions(observation: Observation): Condition[] {
  const conditions: Condition[] = [];
  for (const queue of observation.queues) {
    const threshold = queue.threshold ?? observation.defaultThreshold;
    if (queue.waiting > threshold) {
      conditions.push({
        kind: "queue_length",
        subject: queue.queueId,
        applicationId: queue.applicationId,
        details: { waiting: queue.waiting, threshold },
      });
    }
    if (isStalled(queue, observation.at)) {
      conditions.push({
        kind: "release_stalled",
        subject: queue.queueId,
        applicationId: queue.applicationId,
        details: {
          waiting: queue.waiting,
          lastReleaseAt: queue.lastReleaseAt === null ? null : new Date(queue.lastReleaseAt).toISOString(),
          releaseIntervalMs: queue.releaseIntervalMs,
        },
      });
    }
  }
  for (const dead of observation.deadLetters) {
    if (dead.count > 0) {
      conditions.push({
        kind: "dead_letters",
        subject: dead.applicationId,
        applicationId: dead.applicationId,
        details: { count: dead.count },
      });
    }
  }
  for (const worker of observation.workers ?? []) {
    const silentMs = observation.at - worker.lastSeenAt;
    if (silentMs > WORKER_SILENT_MS) {
      conditions.push({
        kind: "worker_down",
        subject: worker.workerId,
        applicationId: null,
        details: {
          lastSeenAt: new Date(worker.lastSeenAt).toISOString(),
          silentSeconds: Math.floor(silentMs / 1000),
        },
      });
    }
  }
  for (const { component, failingSince } of observation.components ?? []) {
    if (failingSince !== null && observation.at - failingSince >= UNREACHABLE_MS) {
      conditions.push({
        kind: component === "record" ? "record_down" : "index_down",
        subject: component,
        applicationId: null,
        details: {
          failingSince: new Date(failingSince).toISOString(),
          failingSeconds: Math.floor((observation.at - failingSince) / 1000),
        },
      });
    }
  }
  return conditions;
}

/** Visitors waiting, not paused, and nothing released for three release intervals (counted from the later
 * of the last release and the moment visitors began to wait). */
export function isStalled(queue: QueueObservation, at: number): boolean {
  if (queue.paused || queue.waiting <= 0 || queue.waitingSince === null) return false;
  const since = Math.max(queue.lastReleaseAt ?? Number.NEGATIVE_INFINITY, queue.waitingSince);
  return at - since >= STALL_INTERVALS * queue.releaseIntervalMs;
}

/** The latest alert of one key, as the record holds it. */
export interface AlertStatus extends AlertKey {
  id: string;
  state: AlertState;
  firedAt: number;
  resolvedAt: number | null;
}

export type Transition =
  | { type: "fire"; condition: Condition }
  | { type: "resolve"; alert: AlertStatus; condition?: undefined };

/**
 * What changes, given the latest alert of each key and the conditions holding now:
 * - a condition with no alert firing fires a new alert, unless an alert of its key resolved less than
 *   `cooldownMs` ago (it flaps: it fires again once the cooldown has passed, if it still holds);
 * - a firing alert whose condition no longer holds resolves (once: a resolved alert is never resolved again);
 * - a firing alert whose condition still holds stays as it is (it never fires twice).
 */
export function planTransitions(
  latest: readonly AlertStatus[],
  conditions: readonly Condition[],
  now: number,
  cooldownMs: number,
): Transition[] {
  const byKey = new Map<string, AlertStatus>();
  for (const alert of latest) {
    const key = alertKeyString(alert);
    const known = byKey.get(key);
    if (known === undefined || known.firedAt <= alert.firedAt) byKey.set(key, alert);
  }
  const holding = new Set<string>();
  const transitions: Transition[] = [];
  for (const condition of conditions) {
    const key = alertKeyString(condition);
    if (holding.has(key)) continue;
    holding.add(key);
    const alert = byKey.get(key);
    if (alert?.state === "firing") continue;
    if (alert?.resolvedAt != null && now - alert.resolvedAt < cooldownMs) continue;
    transitions.push({ type: "fire", condition });
  }
  for (const [key, alert] of byKey) {
    if (alert.state === "firing" && !holding.has(key)) transitions.push({ type: "resolve", alert });
  }
  return transitions;
}

/** A one-line summary of an alert, for a subject line or a chat message. */
export function describeAlert(kind: AlertKind, subject: string, details: AlertDetails): string {
  switch (kind) {
    case "queue_length":
      return `Queue ${subject}: ${String(details.waiting)} visitors waiting (threshold ${String(details.threshold)})`;
    case "dead_letters":
      return `Application ${subject}: ${String(details.count)} callback(s) dead-lettered after their retries`;
    case "release_stalled":
      return `Queue ${subject}: release stalled with ${String(details.waiting)} visitors waiting`;
    case "worker_down":
      return `Worker ${subject}: no heartbeat for ${String(details.silentSeconds)} s`;
    case "record_down":
      return `The record (database) has been unreachable for ${String(details.failingSeconds)} s`;
    case "index_down":
      return `The hot index has been unreachable for ${String(details.failingSeconds)} s`;
  }
}

/** What an operator should do, per kind (the notification's second paragraph). */
export const ALERT_ADVICE: Record<AlertKind, string> = {
  queue_length:
    "More visitors are waiting than the threshold. Check that the release rate matches what the site can take; raise it if the site has room, or expect longer waits.",
  dead_letters:
    "Release callbacks to the site's server failed after every retry. Check that the callback URL is reachable and answers 2xx, then retry the dead letters.",
  release_stalled:
    "Visitors are waiting but nothing was released for three release intervals. Check that a worker is running, that the record and the index are reachable, and the worker's logs.",
  worker_down:
    "A worker that was heartbeating has been silent for a minute (a cleanly stopped worker removes its heartbeat and does not alert). Check whether its process or host is alive and its logs; if it crashed, the other workers carry on releasing.",
  record_down:
    "The record (SQLite or PostgreSQL) has not answered for 30 seconds: joins and releases fail. Check the database server, its disk and the network to it.",
  index_down:
    "The hot index (Redis) has not answered for 30 seconds: positions and releases fail. Check the Redis server, its memory and the network to it.",
};
