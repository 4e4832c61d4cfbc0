/**
 * The hot index: what the visitor hot path reads instead of the record. Per queue it holds the ordered
 * waiting set (rank in O(log n)), heartbeats, the released visitors with their admission tokens, recent
 * terminal states, and the queue's rate figures for estimates. It can always be rebuilt from the record.
 * Two adapters: in-process (embedded) and Redis (production).
 */
/**
 * Most ended (cancelled or expired) entries either adapter holds per queue; past it the oldest go first.
 * An ended entry only saves a late poll one record read, and it is pruned after a short retention anyway
 * (see worker/release/expiry.ts), so this matters only when tickets end faster than that retention drains them:
 * a visitor looping join -> cancel, or a mass expiry. 65,536 covers about 500 ends a second sustained over
 * the retention, and bounds what a queue's ended entries can cost at any rate: about 1 MiB in the
 * in-process index (16 bytes each), about 7 MiB in Redis (two sorted sets, about 110 bytes each).
 */
export const ENDED_CAP_PER_QUEUE = 65_536;

/** What both adapters take (the Redis one also takes its connection and a key prefix). */
export interface QueueIndexOptions {
  /** Most ended entries held per queue (default ENDED_CAP_PER_QUEUE). */
  endedCap?: number;
}

/** How many entries of each kind one queue holds (both adapters offer `heldCounts`; tests, the bench). */
export interface HeldCounts {
  waiting: number;
  released: number;
  unseen: number;
  ended: number;
}

import type { IndexedTicket, QueueMeta } from "../domain/model.js";

export type { IndexedTicket, QueueMeta };

export interface ReleasedEntry {
  seq: number;
  accessToken: string;
  releasedAt: number;
  /** When the visitor was first seen after release, if already (rebuilding from the record). */
  seenAt?: number;
}

export interface QueueIndex {
  setMeta(queueId: string, meta: QueueMeta): Promise<void>;
  /**
   * Adds waiting tickets (new joins, or the record's during a rebuild), heartbeat now. Safe to repeat and
   * to run while joins keep arriving: a ticket already waiting keeps its heartbeat, and one the index knows
   * was released or ended is not re-added (a late add after a fast release must not resurrect it).
   */
  addWaiting(queueId: string, seqs: readonly number[], now: number): Promise<void>;
  /** The ticket's state; for a waiting ticket also its heartbeat, for a released one its first sighting. */
  poll(queueId: string, seq: number, now: number): Promise<IndexedTicket>;
  /** The same, answered synchronously, by adapters that hold the index in this process. */
  pollNow?(queueId: string, seq: number, now: number): IndexedTicket;
  /**
   * Many tickets of one queue polled in one call (one round trip): for each seq, in order, what `poll`
   * answers, with the same effects (a waiting ticket's heartbeat, a released one's first sighting). The
   * live-updates hub asks this for all of its connected visitors of a queue at once, so connected visitors
   * count as alive and a queue's change costs one call however many are connected.
   */
  ranks(queueId: string, seqs: readonly number[], now: number): Promise<IndexedTicket[]>;
  /**
   * Records tickets as ended (cancelled or expired), removing them from the waiting or released sets. A
   * ticket already held as ended takes the new state but keeps its time; past the queue's cap of ended
   * entries the oldest are forgotten.
   */
  end(queueId: string, seqs: readonly number[], state: "cancelled" | "expired", now: number): Promise<void>;
  markReleased(queueId: string, entries: readonly ReleasedEntry[], now: number): Promise<void>;
  /** A released visitor was seen by the site (admission check): true the first time. */
  markSeen(queueId: string, seq: number, now: number): Promise<boolean>;
  waitingCount(queueId: string): Promise<number>;
  /** Waiting tickets whose last heartbeat is before `cutoff` (ms), oldest ticket first. */
  abandoned(queueId: string, cutoff: number, limit: number): Promise<number[]>;
  /** Released tickets never seen, released before `cutoff` (ms), oldest release first. */
  unseen(queueId: string, cutoff: number, limit: number): Promise<number[]>;
  /**
   * Forgets released entries released before `releasedCutoff` and ended entries that ended before
   * `endedCutoff` (ms; by default the same cutoff); polls for them fall back to the record.
   */
  prune(queueId: string, releasedCutoff: number, endedCutoff?: number): Promise<void>;
  /**
   * Empties a queue, as a flushed Redis would: in Redis its loaded marker goes too, so polls say
   * "rebuilding" until the worker rebuilds it. No rebuild calls it (a rebuild only adds); tests do.
   */
  reset(queueId: string): Promise<void>;
  /**
   * Marks a queue's rebuild complete. Until then (Redis) a poll of a ticket neither released nor ended says
   * "unknown" with `rebuilding`; the in-process index is always loaded.
   */
  markLoaded(queueId: string): Promise<void>;
  /** Whether the queue has been (re)built since the index was last emptied (e.g. Redis flushed). */
  isLoaded(queueId: string): Promise<boolean>;
  /** Waiting seqs greater than `afterSeq`, ascending, up to `limit` (the reconciler compares pages). */
  waitingPage(queueId: string, afterSeq: number, limit: number): Promise<number[]>;
  /** Forgets a deleted queue (Redis keeps its loaded marker, so late polls go to the record). */
  drop(queueId: string): Promise<void>;
  close(): Promise<void>;
}
