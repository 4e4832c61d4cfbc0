import { newTimeOrderedId } from "./kysely/util.js";
import type { JoinOutcome, JoinRequest, Ticket } from "./types.js";

/**
 * What the dialects' join paths share: grouping a batch by queue, building new tickets, and answering each
 * request in order (a visitor listed twice in one batch joined once: the second request sees the first's
 * ticket as existing).
 */
export const joinKey = (queueId: string, visitorId: string): string => `${queueId}\n${visitorId}`;

/**
 * Each queue's distinct visitors, in the order they first appear. A visitor listed twice joins with its
 * first request's device and return address; the later requests get that ticket as existing (and the
 * visitor service refuses one from another device).
 */
export function visitorsByQueue(requests: readonly JoinRequest[]): Map<string, JoinRequest[]> {
  const byQueue = new Map<string, Map<string, JoinRequest>>();
  for (const request of requests) {
    const visitors = byQueue.get(request.queueId) ?? new Map<string, JoinRequest>();
    if (!visitors.has(request.visitorId)) visitors.set(request.visitorId, request);
    byQueue.set(request.queueId, visitors);
  }
  return new Map([...byQueue].map(([queueId, visitors]) => [queueId, [...visitors.values()]]));
}

export function newWaitingTicket(queueId: string, seq: number, request: JoinRequest, now: string): Ticket {
  return {
    id: newTimeOrderedId(),
    queue_id: queueId,
    seq,
    visitor_id: request.visitorId,
    status: "waiting",
    joined_at: now,
    released_at: null,
    admitted_at: null,
    ended_at: null,
    end_reason: null,
    access_token: null,
    device_hash: request.deviceHash ?? null,
    return_to: request.returnTo ?? null,
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
