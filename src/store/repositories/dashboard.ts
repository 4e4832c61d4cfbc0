import type { EndReason, Page, PageRequest, QueueMode, Visibility } from "../types.js";
import type { CallbackError } from "./outbox.js";

/** A queue as dashboards list it: live (not deleted) queues of live applications. */
export interface DashboardQueue {
  id: string;
  application_id: string;
  name: string;
  mode: QueueMode;
  max_users_per_minute: number;
  /** Tickets ever handed out in the queue (its last ticket number): every join, counted once. */
  next_seq: number;
}

/** Counts of one queue (or one application's queues) by queue id. */
export type CountsByQueue = Map<string, number>;

/** A dead letter: a callback given up on after its retries (`event_id` is its outbox entry). */
export type DeadLetter = CallbackError;

/**
 * The dashboards' reads, and the dead letters' retry and discard. Every ticket count is bounded by time and
 * by queue, over an index (tickets(queue_id, released_at), tickets(queue_id, ended_at), the waiting line).
 */
export interface DashboardRepository {
  /** Live queues of live applications the caller may see, optionally of one application. */
  queues(visible: Visibility, applicationId?: string): Promise<DashboardQueue[]>;
  /** Live applications the caller may see. */
  applicationCount(visible: Visibility): Promise<number>;
  /** Tickets released at or after `since`, by queue (only queues with any). */
  releasedSince(queueIds: readonly string[], since: string): Promise<CountsByQueue>;
  /** Tickets that expired at or after `since`, by why they ended. */
  expiredSince(queueIds: readonly string[], since: string): Promise<Partial<Record<EndReason, number>>>;
  /** Released visitors whose admission is still on (released, not ended), by queue. */
  activeAdmitted(queueIds: readonly string[]): Promise<CountsByQueue>;
  /** When the oldest ticket still waiting joined, by queue (only queues with a line). */
  oldestWaiting(queueIds: readonly string[]): Promise<Map<string, string>>;
  /** Callbacks waiting for delivery (including retries), by queue. */
  pendingCallbacks(queueIds: readonly string[]): Promise<CountsByQueue>;
  /** Dead letters not yet retried or discarded, by queue; with `since`, only those recorded since. */
  deadLetters(queueIds: readonly string[], since?: string): Promise<CountsByQueue>;
  /** Dead letters of visible applications, newest first. */
  listDeadLetters(
    filter: { visible: Visibility; applicationId?: string },
    page: PageRequest,
  ): Promise<Page<DeadLetter>>;
  findDeadLetter(id: string): Promise<DeadLetter | undefined>;
  /**
   * Puts the dead letter's callback back for delivery with fresh attempts, due at `now`, and removes the
   * dead letter, together; false when it was already gone.
   */
  retryDeadLetter(id: string, now: string): Promise<boolean>;
  /** Discards the dead letter (its callback stays dead); false when it was already gone. */
  discardDeadLetter(id: string): Promise<boolean>;
}
