import type { RateLimitState } from "../../domain/gcra.js";
import type { SigningKeyRow } from "./signing-keys.js";
import type { Ticket } from "./tickets.js";

export interface OutboxDraft {
  id: string;
  payload: string;
  status: "pending" | "simulated";
}

/**
 * Stored release state of a queue or an application: the rate's schedule and recent releases
 * (domain/gcra.ts), and the measured-rate meter.
 */
export interface RateState extends RateLimitState {
  meter: { released: number; busyMs: number; at: number | undefined };
}

export interface ReleaseRequest {
  applicationId: string;
  queueIds: readonly string[];
  now: number;
  /**
   * Given the stored rate state (by queue or application id) and when each queue's oldest waiting visitor
   * joined (queues with nobody waiting in the record are absent), how many to release from each queue.
   */
  plan(states: ReadonlyMap<string, RateState>, waitingSince: ReadonlyMap<string, number>): ReleasePlanLike;
  /**
   * Signs the admission token with `key` (the record's current signing key, read in the release
   * transaction) and drafts the callback, for one ticket about to be released.
   */
  admit(ticket: Ticket, key: SigningKeyRow): Promise<{ accessToken: string; outbox: OutboxDraft }>;
}

export interface ReleasePlanLike {
  /** How many to release from each queue, at most. */
  counts: ReadonlyMap<string, number>;
  /**
   * New state per queue (and the application's, under its id, when it has a shared intake), given how
   * many were actually released from each queue (fewer than planned if fewer were waiting in the record).
   */
  states(actual: ReadonlyMap<string, number>): ReadonlyMap<string, RateState>;
}

export interface ReleaseResult {
  released: Ticket[];
  states: ReadonlyMap<string, RateState>;
}

export interface ReleaseRepository {
  /**
   * One atomic release for one application: lock its rate state (another worker holding it means
   * "busy": undefined is returned), plan, pick the oldest waiting tickets of each queue, read the current
   * signing key (newest not revoked; PostgreSQL holds it FOR SHARE, so a revocation waits for this commit),
   * mark the tickets released with admission tokens signed by that key, write their callbacks to the outbox
   * and the new rate state, and commit all of it together.
   */
  releaseApplication(request: ReleaseRequest): Promise<ReleaseResult | undefined>;
}
