import { randomUUID } from "node:crypto";
import type { RateState } from "../../../src/domain/release-plan.js";
import type { SigningKeyRow, Store, Ticket } from "../../../src/store/types.js";

/**
 * One release round through the record, as the releaser makes one (src/worker/release/releaser.ts), minus
 * the planning and signing, which are not the record's business. The release tests go through this helper
 * only: a change to `ReleaseRepository`'s shape is adapted here.
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

export interface RoundResult {
  /** The tickets released, as they are now. */
  released: Ticket[];
  states: ReadonlyMap<string, RateState>;
  /** The outbox entry ids drafted, by ticket id. */
  callbacks: Map<string, string>;
}

/** The admission token a round gives a ticket: says which ticket and which key. */
const tokenFor = (ticket: Ticket, key: SigningKeyRow): string => `jwt.${ticket.seq}.${key.kid}`;

/** Runs one round; "busy" when another holds the application. */
export async function releaseRound(store: Store, round: Round): Promise<RoundResult | "busy"> {
  const callbacks = new Map<string, string>();
  const now = new Date(round.now).toISOString();
  const result = await store.releases.withApplicationLock(round.applicationId, async (tx) => {
    const stored = await tx.rateStates([round.applicationId, ...round.queueIds]);
    round.saw?.(stored, await tx.waitingSince(round.queueIds));
    const picked: Ticket[] = [];
    for (const [queueId, count] of Object.entries(round.counts)) {
      if (count > 0) picked.push(...(await tx.oldestWaiting(queueId, count)));
    }
    const key = picked.length === 0 ? undefined : await tx.signingKey();
    if (picked.length > 0 && key === undefined) throw new Error("no admission signing key in the record");
    const released: Ticket[] = [];
    for (const ticket of picked) {
      if (key === undefined) break;
      await round.beforeAdmit?.(ticket, key);
      callbacks.set(ticket.id, randomUUID());
      released.push({ ...ticket, status: "released", released_at: now, access_token: tokenFor(ticket, key) });
    }
    await tx.markReleased(
      released.map((ticket) => ({ id: ticket.id, access_token: ticket.access_token ?? "" })),
      now,
    );
    await tx.addCallbacks(
      released.map((ticket) => ({
        id: callbacks.get(ticket.id) ?? "",
        application_id: round.applicationId,
        queue_id: ticket.queue_id,
        ticket_id: ticket.id,
        event: "visitor.released",
        payload: JSON.stringify({ seq: ticket.seq }),
        status: "pending" as const,
      })),
      now,
    );
    const actual = new Map<string, number>();
    for (const ticket of released) actual.set(ticket.queue_id, (actual.get(ticket.queue_id) ?? 0) + 1);
    const states = round.states?.(actual) ?? new Map<string, RateState>();
    await tx.saveRateStates(states);
    return { released, states };
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
