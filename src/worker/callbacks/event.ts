import { randomUUID } from "node:crypto";
import { iso } from "../../domain/time.js";
import type { OutboxDraft, Queue, Ticket } from "../../store/types.js";

/** The one event the service calls applications back with (docs/waiting-room.md, "The release callback"). */
const VISITOR_RELEASED = "visitor.released";

interface ReleasedPayload {
  event: typeof VISITOR_RELEASED;
  event_id: string;
  queue_id: string;
  visitor_id: string;
  access_token: string;
  released_at: string;
}

/** The outbox entry for a visitor released at `now` with `accessToken`, written in the release's transaction. */
export function releasedCallback(
  queue: Pick<Queue, "application_id" | "mode">,
  ticket: Pick<Ticket, "id" | "queue_id" | "visitor_id">,
  accessToken: string,
  now: number,
): OutboxDraft {
  const payload: ReleasedPayload = {
    event: VISITOR_RELEASED,
    event_id: randomUUID(),
    queue_id: ticket.queue_id,
    visitor_id: ticket.visitor_id,
    access_token: accessToken,
    released_at: iso(now),
  };
  return {
    id: payload.event_id,
    application_id: queue.application_id,
    queue_id: ticket.queue_id,
    ticket_id: ticket.id,
    event: payload.event,
    payload: JSON.stringify(payload),
    // A simulation queue records the callback it would have sent, and sends nothing.
    status: queue.mode === "simulation" ? "simulated" : "pending",
  };
}
