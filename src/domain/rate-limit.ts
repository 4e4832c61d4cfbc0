import type { Clock } from "./clock.js";
import { RateLimiter, type SharedCounts } from "./rate-limiter.js";

/**
 * The limits a deployment sets, per second unless named otherwise (0 turns a limit off). Windows: ten
 * seconds for the per-address limits (bursts of a shared address even out), one second for the
 * per-application ones (so a join limit is what its name says), one minute for unknown API keys.
 */
export interface RateLimitSettings {
  /** Status polls per client address. */
  statusPerSecond: number;
  /** Joins per application, unless the application sets its own `max_joins_per_second`. */
  joinsPerSecond: number;
  /** Cancels per client address. */
  cancelsPerSecond: number;
  /** Admission checks per application (API key). */
  admissionChecksPerSecond: number;
  /** Admin API requests per client address. */
  adminPerSecond: number;
  /** Requests with an unknown API key (each costs a record read) per client address, per minute. */
  keyFailuresPerMinute: number;
  /**
   * Joins with the publishable key per client address. The key is public, so anyone can join from a
   * script; a browser joins once per queue, so a few a second per address is plenty for people.
   */
  pageJoinsPerSecond: number;
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimitSettings> = {
  statusPerSecond: 200,
  joinsPerSecond: 1000,
  cancelsPerSecond: 20,
  admissionChecksPerSecond: 500,
  adminPerSecond: 50,
  keyFailuresPerMinute: 60,
  pageJoinsPerSecond: 2,
};

export const NO_RATE_LIMITS: Readonly<RateLimitSettings> = {
  statusPerSecond: 0,
  joinsPerSecond: 0,
  cancelsPerSecond: 0,
  admissionChecksPerSecond: 0,
  adminPerSecond: 0,
  keyFailuresPerMinute: 0,
  pageJoinsPerSecond: 0,
};

export type RateRuleName =
  | "status"
  | "joins"
  | "cancels"
  | "admission_checks"
  | "admin"
  | "key_failures"
  | "page_joins"
  | "streams";

/** Every rule of one process, each with its own counters. */
export class RateLimits {
  readonly status: RateLimiter;
  readonly joins: RateLimiter;
  readonly cancels: RateLimiter;
  readonly admissionChecks: RateLimiter;
  readonly admin: RateLimiter;
  readonly keyFailures: RateLimiter;
  readonly pageJoins: RateLimiter;

  constructor(
    readonly settings: Readonly<RateLimitSettings>,
    clock: Clock,
    options: { shared?: SharedCounts; maxKeys?: number } = {},
  ) {
    const make = (name: RateRuleName, perSecond: number, windowMs: number) =>
      new RateLimiter(
        {
          name,
          limit: Math.round((perSecond * windowMs) / 1000),
          windowMs,
          ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }),
        },
        clock,
        options.shared,
      );
    this.status = make("status", settings.statusPerSecond, 10_000);
    this.joins = make("joins", settings.joinsPerSecond, 1_000);
    this.cancels = make("cancels", settings.cancelsPerSecond, 10_000);
    this.admissionChecks = make("admission_checks", settings.admissionChecksPerSecond, 1_000);
    this.admin = make("admin", settings.adminPerSecond, 10_000);
    this.keyFailures = make("key_failures", settings.keyFailuresPerMinute / 60, 60_000);
    this.pageJoins = make("page_joins", settings.pageJoinsPerSecond, 10_000);
  }

  /** An application's join limit per window (one second): its own, else the default. */
  joinLimit(maxJoinsPerSecond: number | null): number {
    return maxJoinsPerSecond ?? this.joins.limit;
  }

  get all(): readonly RateLimiter[] {
    return [
      this.status,
      this.joins,
      this.cancels,
      this.admissionChecks,
      this.admin,
      this.keyFailures,
      this.pageJoins,
    ];
  }

  /** Pushes every rule's pending shared counts (production calls this a few times a second). */
  async sync(): Promise<void> {
    await Promise.all(this.all.map((limiter) => limiter.sync()));
  }

  /** Some rule's last push to the shared store failed (it limits on this process's counts meanwhile). */
  get failing(): boolean {
    return this.all.some((limiter) => limiter.failing);
  }
}
