import { newTimeOrderedId } from "./kysely/util.js";
import type { JoinOutcome, JoinRequest, Ticket } from "./types.js";

/**
 * What the dialects' join paths share: grouping a batch by queue, building new tickets, and answering each
 * request in order (a visitor listed twice in one batch joined once: the second request sees the first's
 * ticket as existing).
 */
export const joinKey = (queueId: string, visitorId: string): string => `${queueId}\n${visitorId}`;

/** Each queue's distinct visitors, in the order they first appear. */
export function visitorsByQueue(requests: readonly JoinRequest[]): Map<string, string[]> {
  const byQueue = new Map<string, Set<string>>();
  for (const request of requests) {
    const visitors = byQueue.get(request.queueId) ?? new Set<string>();
    visitors.add(request.visitorId);
    byQueue.set(request.queueId, visitors);
  }
  return new Map([...byQueue].map(([queueId, visitors]) => [queueId, [...visitors]]));
}

export function newWaitingTicket(queueId: string, seq: number, visitorId: string, now: string): Ticket {
  return {
    id: newTimeOrderedId(),
    queue_id: queueId,
    seq,
    visitor_id: visitorId,
    status: "waiting",
    joined_at: now,
    released_at: null,
    admitted_at: null,
    ended_at: null,
    end_reason: null,
    access_token: null,
    device_hash: null,
    return_to: null,
  };
}

export function inRequestOrder(
  requests: readonly JoinRequest[],
  found: ReadonlyMap<string, JoinOutcome>,
): JoinOutcome[] {
  const seen = new Set<string>();
  return requests.map((request) => {
    const key = joinKey(request.queueId, request.visitorId);
    const outcome = found.get(key) ?? { kind: "queue_gone" };
    if (seen.has(key) && outcome.kind === "joined") return { kind: "existing", ticket: outcome.ticket };
    seen.add(key);
    return outcome;
  });
}
