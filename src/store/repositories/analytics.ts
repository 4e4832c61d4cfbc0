import type { QueueRollupsTable } from "../schema.js";
import type { RollupLevel, RollupSpan, Visibility } from "../types.js";

/** A queue the rollup works on. */
export interface RollupQueue {
  id: string;
  application_id: string;
}

/** Whose rollup rows: a queue's, or an application's sums over its queues. */
export interface RollupSubject {
  level: RollupLevel;
  /** The queue's id or the application's. */
  id: string;
  application_id: string;
}

/** How far one call to `advance` got. */
export interface RollupProgress {
  /** The cursor after the call: events before this instant are counted. */
  rolled_until: string;
  /** Joins up to this ticket number are counted. */
  rolled_seq: number;
  /** Events read and counted by the call. */
  events: number;
  /** True when the cursor reached `until` and every join there was (nothing left to do now). */
  caught_up: boolean;
}

/** One stored hour or day of a queue or an application (histograms in their text form). */
export type RollupRow = QueueRollupsTable;

/**
 * Analytics rollups (hours and days, of queues and applications), and pruning of old tickets. Rollups are written by the worker only, from the
 * record's own time indexes; dashboards read rollups only, never tickets.
 */
export interface AnalyticsRepository {
  /**
   * Counts one step of the queue's events into its hourly and daily rows and its application's, and moves
   * its cursor, in one transaction that holds the cursor (so any number of workers count each event once). A step is at most `stepMs`
   * of time (releases, endings, callbacks before `until`) and at most `maxJoins` joins. A queue without a
   * cursor starts at its creation.
   */
  advance(
    queue: RollupQueue,
    until: string,
    options: { stepMs: number; maxJoins: number },
  ): Promise<RollupProgress>;
  /**
   * Raises the peak line length of a queue's (or an application's) hour, and of its day, to `waiting` if
   * it is higher.
   */
  notePeak(subject: RollupSubject, hourStart: string, waiting: number): Promise<void>;
  /**
   * Stored hours or days (`span`) starting in [from, to): of one queue (`queueId`), or else the sums of the
   * visible applications (or of one); deleted queues' history is in their application's sums.
   */
  rows(filter: {
    span: RollupSpan;
    visible: Visibility;
    applicationId?: string;
    queueId?: string;
    from: string;
    to: string;
    /** At most this many rows. */
    limit?: number;
  }): Promise<RollupRow[]>;
  /**
   * Deletes up to `limit` tickets of the queue that ended before `before` and that the rollup has counted,
   * with their callbacks and dead letters; returns how many tickets went.
   */
  pruneTickets(queueId: string, before: string, limit: number): Promise<number>;
  /** Every queue that has tickets to consider for pruning (deleted ones included). */
  queueIds(): Promise<string[]>;
}
