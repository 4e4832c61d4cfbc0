import type { EndReason, OriginPolicy, QueueMode, Role, TicketStatus } from "../domain/model.js";

export type { EndReason, OriginPolicy, QueueMode, Role, TicketStatus };

/**
 * The record's tables as Kysely sees them. Portable across SQLite and PostgreSQL: ids are UUID strings,
 * times are UTC instants carried as ISO-8601 strings (timestamptz in PostgreSQL, text in SQLite), and
 * there are no booleans (a nullable instant says when something became true).
 */

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: string;
  updated_at: string;
  disabled_at: string | null;
  sessions_valid_from: string | null;
}

export interface UserGrantsTable {
  user_id: string;
  application_id: string;
  created_at: string;
}

export interface ApplicationsTable {
  id: string;
  name: string;
  domain: string;
  callback_url: string;
  api_key_hash: string;
  api_key_prefix: string;
  webhook_secret_enc: string;
  /** Shared intake for all the application's queues; null means each queue only has its own rate. */
  max_users_per_minute: number | null;
  /** Joins a second this application may make; null means the deployment's default. */
  max_joins_per_second: number | null;
  /** The key a page may carry: joins only, from the application's origins. Public by design. */
  publishable_key: string;
  /** Which origins may use the publishable key: the domain alone, or its subdomains too. */
  origin_policy: OriginPolicy;
  /** Origins that may frame the waiting page, space-separated (CSP syntax); null: the domain's own. */
  frame_ancestors: string | null;
  /** Extra alert recipients, a JSON list of e-mail addresses; null: none. */
  alert_emails: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface QueuesTable {
  id: string;
  application_id: string;
  name: string;
  max_users_per_minute: number;
  priority: number;
  mode: QueueMode;
  release_ttl_seconds: number;
  abandon_after_seconds: number;
  admission_ttl_seconds: number;
  redirect_url: string | null;
  /** The waiting page's settings as JSON (PageSettings); null: the defaults. */
  page_settings: string | null;
  /** Last ticket number handed out in this queue. */
  next_seq: number;
  /** Queue length above which an alert fires; null: QUEUE_THRESHOLD. */
  alert_threshold: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** Why a ticket ended: cancelled, abandoned while waiting, never seen after release, or admission over. */

export interface TicketsTable {
  id: string;
  queue_id: string;
  /** Ticket number within the queue: FIFO order, and the key of the hot index. */
  seq: number;
  visitor_id: string;
  status: TicketStatus;
  joined_at: string;
  released_at: string | null;
  /** First time a released visitor was seen (a poll or the site's admission check). */
  admitted_at: string | null;
  ended_at: string | null;
  end_reason: EndReason | null;
  access_token: string | null;
  /** SHA-256 of the device secret of the browser that joined with the publishable key; null otherwise. */
  device_hash: string | null;
  /** Where the visitor goes when released (checked against the application's origins at join). */
  return_to: string | null;
}

/**
 * Release rate state of a queue or an application: the theoretical time of the next release (GCRA) and,
 * as JSON, the record of its recent releases (domain/gcra.ts; null: none kept yet).
 */
export interface RateStateTable {
  subject_id: string;
  tat_ms: number;
  release_window: string | null;
  meter_released: number;
  meter_busy_ms: number;
  meter_at: number | null;
}

export type OutboxStatus = "pending" | "delivered" | "dead" | "simulated";

export interface CallbackOutboxTable {
  /** Also the event_id sent to the site, for idempotency. */
  id: string;
  application_id: string;
  queue_id: string;
  ticket_id: string;
  event: string;
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: string;
  delivered_at: string | null;
  /** How long the successful attempt took, in ms (null: not delivered, or delivered before this was kept). */
  duration_ms: number | null;
}

export interface CallbackErrorsTable {
  id: string;
  event_id: string;
  application_id: string;
  queue_id: string;
  url: string;
  attempts: number;
  last_error: string;
  last_status: number | null;
  created_at: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk_enc: string;
  created_at: string;
  retired_at: string | null;
  revoked_at: string | null;
}

/** A worker process's heartbeat: written every few seconds while it runs (dashboards report silent ones). */
export interface WorkerHeartbeatsTable {
  /** Chosen by the process at start (a UUID). */
  id: string;
  host: string;
  pid: number;
  started_at: string;
  last_seen_at: string;
}

export type RollupSpan = "hour" | "day";
export type RollupLevel = "queue" | "application";

export interface Database {
  users: UsersTable;
  user_grants: UserGrantsTable;
  applications: ApplicationsTable;
  queues: QueuesTable;
  tickets: TicketsTable;
  rate_state: RateStateTable;
  callback_outbox: CallbackOutboxTable;
  callback_errors: CallbackErrorsTable;
  signing_keys: SigningKeysTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  alerts: AlertsTable;
  alert_notifications: AlertNotificationsTable;
  queue_rollups: QueueRollupsTable;
  rollup_cursors: RollupCursorsTable;
}

/**
 * One queue's hour or UTC day of analytics (see domain/analytics.ts); histograms in domain/histogram.ts's
 * text form.
 */
export interface QueueRollupsTable {
  /** The queue's id, or the application's for its sums over all its queues. */
  subject_id: string;
  level: RollupLevel;
  application_id: string;
  span: RollupSpan;
  /** The hour's or the day's start. */
  period_start: string;
  joins: number;
  releases: number;
  cancels: number;
  abandoned: number;
  not_seen: number;
  admission_ended: number;
  callbacks_delivered: number;
  callbacks_failed: number;
  /** The longest line sampled in the period (an application's: of all its queues at once). */
  peak_waiting: number;
  wait_hist: string;
  callback_hist: string;
}

/** How far a queue's rollup got: events before `rolled_until`, joins up to ticket `rolled_seq`. */
export interface RollupCursorsTable {
  queue_id: string;
  rolled_until: string;
  rolled_seq: number;
}

export interface AlertsTable {
  id: string;
  kind: string;
  subject: string;
  application_id: string | null;
  state: string;
  fired_at: string;
  resolved_at: string | null;
  last_notified_at: string | null;
  /** JSON object (AlertDetails). */
  details: string;
}

export interface AlertNotificationsTable {
  id: string;
  alert_id: string;
  event: string;
  channel: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}
