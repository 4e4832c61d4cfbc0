import type { TicketsTable } from "../schema.js";

/** A ticket (visitor) as the record holds it. */
export type Ticket = TicketsTable;

export interface JoinRequest {
  queueId: string;
  visitorId: string;
  /** SHA-256 hex of the browser's device secret, for a join from a page (publishable key). */
  deviceHash?: string | null;
  /** Where to send the visitor when released (already checked against the application's origins). */
  returnTo?: string | null;
}

export type JoinOutcome =
  | { kind: "joined" | "existing"; ticket: Ticket }
  /** The queue (or its application) was deleted: nothing was stored. */
  | { kind: "queue_gone" }
  /**
   * This request's part of the batch failed and nothing of it was stored; the other queues' parts of the
   * same batch may have been committed (their outcomes say so) and must be answered as such.
   */
  | { kind: "failed"; error: unknown };

export interface TicketRepository {
  /**
   * Joins many visitors with as few commits as the dialect allows (one commit, one fsync per batch in
   * SQLite; one statement per queue in PostgreSQL). Idempotent per (queue, visitor): a visitor with an
   * active (waiting or released) ticket gets that ticket back, never a second place. Throws when nothing
   * was stored; a part that failed while others were committed is reported as `failed` in its outcomes.
   */
  joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]>;
  findBySeq(queueId: string, seq: number): Promise<Ticket | undefined>;
  /** Waiting -> cancelled. The ticket as it is afterwards, and whether this call cancelled it. */
  cancel(
    queueId: string,
    seq: number,
    now: string,
  ): Promise<{ ticket: Ticket; cancelled: boolean } | undefined>;
  /** Waiting -> expired (abandoned); returns the seqs actually changed. */
  expireAbandoned(queueId: string, seqs: readonly number[], now: string): Promise<number[]>;
  /** Released and never seen -> expired (not_seen); returns the seqs actually changed. */
  expireUnseen(queueId: string, seqs: readonly number[], now: string): Promise<number[]>;
  /**
   * Ends released tickets whose admission is over (released before `releasedBefore`): they are no longer
   * active, so the visitor may queue again. Returns the seqs ended (at most `limit`).
   */
  endAdmissions(queueId: string, releasedBefore: string, now: string, limit: number): Promise<number[]>;
  /** Records the first time a released visitor was seen; false if it was not released or already seen. */
  markAdmitted(queueId: string, seq: number, now: string): Promise<boolean>;
  /** How many are waiting ahead of a ticket (fallback when the hot index cannot say). */
  countWaitingBefore(queueId: string, seq: number): Promise<number>;
  /** Waiting seqs greater than `afterSeq`, ascending (the reconciler compares them with the index). */
  waitingSeqs(queueId: string, afterSeq: number, limit: number): Promise<number[]>;
  /** Tickets by seq, for repairing index entries the record disagrees with. */
  findBySeqs(queueId: string, seqs: readonly number[]): Promise<Ticket[]>;
  /** Waiting and released tickets with seq > afterSeq, ascending: pages for rebuilding the hot index. */
  activePage(queueId: string, afterSeq: number, limit: number): Promise<Ticket[]>;
}
