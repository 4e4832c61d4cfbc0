/** What /join, /queue_status and the `status` events of /queue_events carry (src/domain/visitor-status.ts). */
export type VisitorState = "waiting" | "released" | "cancelled" | "expired";

export interface VisitorStatus {
  status: VisitorState;
  position: number | null;
  users_ahead: number | null;
  estimated_wait_seconds: number | null;
  queue_size: number;
  poll_after_seconds: number | null;
  access_token?: string;
  redirect_url?: string;
}

/** A join's answer: the status and the visitor token for status, events and cancel. */
export interface JoinAnswer extends VisitorStatus {
  token: string;
}

/** An error as the client reports it: the API's stable code (or one of the client's own) and a message. */
export interface ClientError {
  code: string;
  message: string;
  status?: number;
}

/** Strings of one language, flat: `title`, `ahead_one`, `errors.invalid_token`, `widget.stay`... */
export type Strings = Record<string, string>;

export const TERMINAL: readonly VisitorState[] = ["released", "cancelled", "expired"];

export function isTerminal(state: VisitorState): boolean {
  return TERMINAL.includes(state);
}
