import { configuredPerMinute, estimateWaitSeconds, pollAfterSeconds } from "./estimate.js";
import type { IndexedTicket, QueueMeta, TicketStatus } from "./model.js";
import { withAdmissionToken } from "./origins.js";

/** What a visitor sees: the seed's status fields, exact position, and an estimate from the measured rate. */
export interface VisitorStatus {
  status: TicketStatus;
  /** 1 + visitors still waiting ahead; null when no longer waiting. */
  position: number | null;
  users_ahead: number | null;
  estimated_wait_seconds: number | null;
  queue_size: number;
  /** When to poll again; null when there is no reason to poll any more. */
  poll_after_seconds: number | null;
  access_token?: string;
  redirect_url?: string;
}

export interface QueueSettingsForStatus {
  max_users_per_minute: number;
  application_rate: number | null;
  abandon_after_seconds: number;
}

export function waitingStatus(
  rank: number,
  size: number,
  meta: QueueMeta | undefined,
  queue: QueueSettingsForStatus,
): VisitorStatus {
  const position = rank + 1;
  const perMinute =
    meta?.measuredPerMinute ??
    meta?.configuredPerMinute ??
    configuredPerMinute(queue.max_users_per_minute, queue.application_rate);
  const wait = estimateWaitSeconds(position, perMinute);
  return {
    status: "waiting",
    position,
    users_ahead: rank,
    estimated_wait_seconds: wait,
    queue_size: size,
    poll_after_seconds: pollAfterSeconds(wait, meta?.abandonAfterSeconds ?? queue.abandon_after_seconds),
  };
}

/**
 * The common poll, answered from the index alone: a waiting ticket whose queue figures (rate, abandonment
 * window) the index carries. Undefined for anything else, which needs the queue's settings or the record.
 */
export function statusFromIndex(indexed: IndexedTicket): VisitorStatus | undefined {
  if (indexed.state !== "waiting" || indexed.meta === undefined) return undefined;
  return waitingStatus(indexed.rank, indexed.size, indexed.meta, {
    max_users_per_minute: indexed.meta.configuredPerMinute,
    application_rate: null,
    abandon_after_seconds: indexed.meta.abandonAfterSeconds,
  });
}

export function releasedStatus(accessToken: string, redirectUrl: string, size: number): VisitorStatus {
  return {
    status: "released",
    position: null,
    users_ahead: null,
    estimated_wait_seconds: 0,
    queue_size: size,
    poll_after_seconds: null,
    access_token: accessToken,
    redirect_url: redirectUrl,
  };
}

export function endedStatus(status: "cancelled" | "expired", size: number): VisitorStatus {
  return {
    status,
    position: null,
    users_ahead: null,
    estimated_wait_seconds: null,
    queue_size: size,
    poll_after_seconds: null,
  };
}

/**
 * Where a released visitor goes, carrying the admission token: the ticket's `return_to` (checked against the
 * application's origins when it joined), else the queue's redirect URL, else the site's root.
 */
export function redirectFor(
  redirectUrl: string | null,
  domain: string,
  accessToken: string,
  returnTo: string | null = null,
): string {
  return withAdmissionToken(returnTo ?? redirectUrl ?? `https://${domain}/`, accessToken);
}

export type { IndexedTicket };
