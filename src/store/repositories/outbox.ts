import type { CallbackErrorsTable, CallbackOutboxTable } from "../schema.js";
import type { Visibility } from "../types.js";

export type OutboxEntry = Omit<CallbackOutboxTable, "locked_until" | "duration_ms">;

export type CallbackError = CallbackErrorsTable;

/** How many entries one claim may take per application (see `OutboxRepository.claimDue`). */
export interface ClaimShare {
  /** At most this many in flight per application, counting those the caller already has. */
  perApplication: number;
  /** What the caller already has in flight, by application id; applications at the cap are skipped. */
  inFlight: ReadonlyMap<string, number>;
}

export interface OutboxRepository {
  /**
   * Claims up to `limit` due pending entries until `leaseUntil`, so no other worker sends them meanwhile.
   * With `share`, each application gets at most its free slots, its oldest entries first, and the limit is
   * shared out across applications (first entries of each before second ones), so one application's
   * backlog cannot fill a claim.
   */
  claimDue(now: string, leaseUntil: string, limit: number, share?: ClaimShare): Promise<OutboxEntry[]>;
  /**
   * The outcome of an attempt, recorded only while the caller still holds the lease it claimed with
   * (`lease`); false when the lease ran out and another worker took the entry over.
   */
  markDelivered(
    id: string,
    lease: string,
    attempts: number,
    status: number,
    now: string,
    /** How long the successful attempt took (analytics' callback duration). */
    durationMs?: number,
  ): Promise<boolean>;
  scheduleRetry(
    id: string,
    lease: string,
    attempts: number,
    nextAttemptAt: string,
    error: string,
    status: number | null,
  ): Promise<boolean>;
  /** After the last attempt: the entry becomes dead and a callback error (dead letter) is recorded, together. */
  markDead(
    entry: OutboxEntry,
    lease: string,
    attempts: number,
    url: string,
    error: string,
    status: number | null,
    now: string,
  ): Promise<boolean>;
  forQueue(queueId: string): Promise<OutboxEntry[]>;
  errors(filter: { applicationIds: Visibility; limit: number }): Promise<CallbackError[]>;
}
