import type { RateState } from "../../domain/release-plan.js";
import type { CallbackOutboxTable } from "../schema.js";
import type { SigningKeyRow } from "./signing-keys.js";
import type { Ticket } from "./tickets.js";

/** A callback to write to the outbox in a release round (see worker/callbacks/event.ts). */
export type OutboxDraft = Pick<
  CallbackOutboxTable,
  "id" | "application_id" | "queue_id" | "ticket_id" | "event" | "payload"
> & { status: "pending" | "simulated" };

/** A ticket a release round releases, with its admission token. */
export interface ReleasedTicket {
  id: string;
  access_token: string;
}

/**
 * What one release round reads and writes, all inside the transaction that holds the application's release
 * lock. Each call is one statement, and one given nothing to write runs none: a round runs every few
 * milliseconds per application, so its round trips are counted.
 */
export interface ReleaseRound {
  /** Stored rate states by subject (queue or application id); a subject never stored is absent. */
  rateStates(subjectIds: readonly string[]): Promise<Map<string, RateState>>;
  /** When each queue's oldest waiting visitor joined; queues with nobody waiting in the record are absent. */
  waitingSince(queueIds: readonly string[]): Promise<Map<string, number>>;
  /** A queue's oldest waiting tickets, at most `limit`, in line order (row-locked in PostgreSQL). */
  oldestWaiting(queueId: string, limit: number): Promise<Ticket[]>;
  /**
   * The key admission tokens are signed with: the newest not revoked. PostgreSQL holds it FOR SHARE until
   * commit, so a revocation waits for this round rather than revoking the key under tokens about to commit.
   */
  signingKey(): Promise<SigningKeyRow | undefined>;
  /** Waiting -> released at `now`, each ticket with its own admission token. */
  markReleased(tickets: readonly ReleasedTicket[], now: string): Promise<void>;
  /** New outbox entries, due at `now`. */
  addCallbacks(drafts: readonly OutboxDraft[], now: string): Promise<void>;
  /** Stores rate states by subject id. */
  saveRateStates(states: ReadonlyMap<string, RateState>): Promise<void>;
}

export interface ReleaseRepository {
  /**
   * Runs `round` in one transaction that first takes the application's release lock (its rate row), and
   * commits whatever it wrote together. When another worker holds the lock it does not wait: `round` is
   * not run and the answer is undefined.
   */
  withApplicationLock<T>(
    applicationId: string,
    round: (round: ReleaseRound) => Promise<T>,
  ): Promise<T | undefined>;
}
