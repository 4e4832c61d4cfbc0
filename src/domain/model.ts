/**
 * The waiting room's vocabulary, shared by the rules here and by the adapters that store it (the record's
 * columns, the hot index's answers): defined once, on the side that imports nothing.
 */
export type Role = "admin" | "operator" | "viewer";

/** Which applications a caller may see: every one (admins) or an explicit list of grants. */
export type Visibility = "all" | readonly string[];

/** `simulation`: releases as live does, but records its callbacks instead of sending them. */
export type QueueMode = "live" | "simulation";

export type TicketStatus = "waiting" | "released" | "expired" | "cancelled";

export type EndReason = "cancelled" | "abandoned" | "not_seen" | "admission_ended";

/** Which origins may use an application's publishable key: its domain alone, or its subdomains too. */
export type OriginPolicy = "domain" | "subdomains";

/** A queue's waiting page: text per language (a language without its own falls back to English). */
export interface PageSettings {
  title?: Readonly<Record<string, string>>;
  message?: Readonly<Record<string, string>>;
  /** An https URL. */
  logo_url?: string;
  /** `#rrggbb`. */
  accent_color?: string;
}

/** A queue's figures the hot index carries for wait estimates. */
export interface QueueMeta {
  /** The configured rate a queue can get: its own, capped by its application's shared intake. */
  configuredPerMinute: number;
  /** What the releaser measured recently; undefined until there is enough history. */
  measuredPerMinute: number | undefined;
  abandonAfterSeconds: number;
}

/** The hot index's answer to a poll. */
export type IndexedTicket =
  | { state: "waiting"; rank: number; size: number; meta: QueueMeta | undefined }
  | {
      state: "released";
      accessToken: string;
      releasedAt: number;
      /** True on the first sighting after release: the caller records the admission. */
      firstSeen: boolean;
      size: number;
    }
  | { state: "cancelled" | "expired"; size: number }
  /**
   * Not in the index (ask the record): never added, pruned, evicted past the ended cap, or its queue
   * dropped. With `rebuilding` (Redis only): the queue is not loaded, so a waiting ticket's rank would not
   * be exact yet and a ticket absent may be waiting in the record.
   */
  | { state: "unknown"; size: number; rebuilding?: boolean };
