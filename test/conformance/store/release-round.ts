import { randomUUID } from "node:crypto";
import type { RateState, ReleaseResult, SigningKeyRow, Store, Ticket } from "../../../src/store/types.js";

/**
 * One release round through the record, as the release engine makes one (src/worker/release/engine.ts),
 * minus the planning and signing, which are not the record's business. The release tests go through this
 * helper only: a change to `ReleaseRepository.releaseApplication`'s shape is adapted here.
 */
export interface Round {
  applicationId: string;
  queueIds: readonly string[];
  now: number;
  /** How many to release from each queue, at most. */
  counts: Readonly<Record<string, number>>;
  /** The rate state to store, given how many were released from each queue (default: none). */
  states?: (actual: ReadonlyMap<string, number>) => ReadonlyMap<string, RateState>;
  /** What the round read before planning: stored rate states, and when each queue's front visitor joined. */
  saw?: (states: ReadonlyMap<string, RateState>, waitingSince: ReadonlyMap<string, number>) => void;
  /** Runs before each ticket is admitted, inside the round's transaction (to hold it, or to fail it). */
  beforeAdmit?: (ticket: Ticket, key: SigningKeyRow) => Promise<void> | void;
}

export interface RoundResult extends ReleaseResult {
  /** The outbox entry ids drafted, by ticket id. */
  callbacks: Map<string, string>;
}

/** The admission token a round gives a ticket: says which ticket and which key. */
const tokenFor = (ticket: Ticket, key: SigningKeyRow): string => `jwt.${ticket.seq}.${key.kid}`;

/** Runs one round; "busy" when another holds the application. */
export async function releaseRound(store: Store, round: Round): Promise<RoundResult | "busy"> {
  const callbacks = new Map<string, string>();
  const result = await store.releases.releaseApplication({
    applicationId: round.applicationId,
    queueIds: round.queueIds,
    now: round.now,
    plan: (states, waitingSince) => {
      round.saw?.(states, waitingSince);
      return {
        counts: new Map(Object.entries(round.counts)),
        states: (actual) => round.states?.(actual) ?? new Map(),
      };
    },
    admit: async (ticket, key) => {
      await round.beforeAdmit?.(ticket, key);
      const id = randomUUID();
      callbacks.set(ticket.id, id);
      return {
        accessToken: tokenFor(ticket, key),
        outbox: { id, payload: JSON.stringify({ seq: ticket.seq }), status: "pending" },
      };
    },
  });
  return result === undefined ? "busy" : { ...result, callbacks };
}

/** A promise to hold a round on, and one that says the round got there. */
export function gate(): { entered: Promise<void>; enter(): void; wait: Promise<void>; open(): void } {
  let enter: () => void = () => {};
  let open: () => void = () => {};
  const entered = new Promise<void>((resolve) => {
    enter = resolve;
  });
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { entered, enter, wait, open };
}
