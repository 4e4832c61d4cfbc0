import type { AlertDetails, AlertKind, AlertState } from "../../domain/alerts.js";
import type { Page, PageRequest, Visibility } from "../types.js";

export type AlertChannelName = "email" | "webhook";
export type AlertEvent = "fired" | "resolved";

export interface AlertRow {
  id: string;
  kind: AlertKind;
  subject: string;
  application_id: string | null;
  state: AlertState;
  fired_at: string;
  resolved_at: string | null;
  last_notified_at: string | null;
  details: AlertDetails;
}

export interface NewAlert {
  kind: AlertKind;
  subject: string;
  application_id: string | null;
  details: AlertDetails;
}

/** A notification a worker claimed, with its alert. */
export interface ClaimedNotification {
  id: string;
  event: AlertEvent;
  channel: AlertChannelName;
  attempts: number;
  /** The lease: pass it back to markSent / scheduleRetry / markFailed. */
  lockedUntil: string;
  alert: AlertRow;
}

export interface AlertFilter {
  visible: Visibility;
  applicationId?: string;
  state?: AlertState;
}

export interface AlertRepository {
  /** Firing alerts, and alerts resolved at or after `resolvedSince` (the ones still in their cooldown). */
  recent(resolvedSince: string): Promise<AlertRow[]>;
  /**
   * Records a firing alert and one pending notification per channel, in one transaction. Undefined when an
   * alert of this kind and subject is firing already (another worker raised it first).
   */
  fire(alert: NewAlert, channels: readonly AlertChannelName[], now: string): Promise<AlertRow | undefined>;
  /** Resolves a firing alert and queues its "resolved" notifications; false when it was not firing. */
  resolve(id: string, channels: readonly AlertChannelName[], now: string): Promise<boolean>;
  /** Claims up to `limit` due notifications until `leaseUntil`: no other worker sends them meanwhile. */
  claimNotifications(now: string, leaseUntil: string, limit: number): Promise<ClaimedNotification[]>;
  /** False when the lease was lost (another worker took the notification over). */
  markSent(id: string, lease: string, attempts: number, now: string): Promise<boolean>;
  scheduleRetry(
    id: string,
    lease: string,
    attempts: number,
    nextAttemptAt: string,
    error: string,
  ): Promise<boolean>;
  /** Gives up after the last attempt. */
  markFailed(id: string, lease: string, attempts: number, error: string): Promise<boolean>;
  /** Alert history, newest first; system-wide alerts (no application) only for `visible: "all"`. */
  list(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRow>>;
  /** Callbacks dead-lettered at or after `since`, per application. */
  deadLettersSince(since: string): Promise<{ applicationId: string; count: number }[]>;
  /** Queues with an alert threshold of their own: queue id → threshold. */
  thresholds(): Promise<Map<string, number>>;
  /** An application's own alert recipients. */
  recipients(applicationId: string): Promise<string[]>;
  setThreshold(queueId: string, threshold: number | null): Promise<void>;
  setRecipients(applicationId: string, emails: readonly string[]): Promise<void>;
}
