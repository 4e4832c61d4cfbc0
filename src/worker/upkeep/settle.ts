import type { QueueIndex, ReleasedEntry } from "../../index/types.js";
import type { Store, Ticket } from "../../store/types.js";

/** A released ticket as the index holds it. */
export function releasedEntry(ticket: Ticket, now: number): ReleasedEntry {
  return {
    seq: ticket.seq,
    accessToken: ticket.access_token ?? "",
    releasedAt: Date.parse(ticket.released_at ?? new Date(now).toISOString()),
    ...(ticket.admitted_at === null ? {} : { seenAt: Date.parse(ticket.admitted_at) }),
  };
}

export type SettledKind = "released" | "cancelled" | "expired" | "unknown";

/**
 * Index entries held as waiting that the record says are not: each is moved to its real state (released
 * with its token, or ended); one the record does not have at all is ended. Tickets the record still has
 * as waiting are left alone (they changed after the caller looked). Returns what was settled, by kind.
 */
export async function settleWaitingEntries(
  store: Store,
  index: QueueIndex,
  queueId: string,
  seqs: readonly number[],
  now: number,
): Promise<Map<SettledKind, number>> {
  const settled = new Map<SettledKind, number>();
  if (seqs.length === 0) return settled;
  const count = (kind: SettledKind, n: number) => settled.set(kind, (settled.get(kind) ?? 0) + n);
  const tickets = await store.tickets.findBySeqs(queueId, seqs);
  const known = new Set(tickets.map((ticket) => ticket.seq));
  const unknown = seqs.filter((seq) => !known.has(seq));
  if (unknown.length > 0) {
    await index.end(queueId, unknown, "expired", now);
    count("unknown", unknown.length);
  }
  const released = tickets.filter((ticket) => ticket.status === "released");
  if (released.length > 0) {
    await index.markReleased(
      queueId,
      released.map((ticket) => releasedEntry(ticket, now)),
      now,
    );
    count("released", released.length);
  }
  for (const state of ["cancelled", "expired"] as const) {
    const ended = tickets.filter((ticket) => ticket.status === state).map((ticket) => ticket.seq);
    if (ended.length > 0) {
      await index.end(queueId, ended, state, now);
      count(state, ended.length);
    }
  }
  return settled;
}
