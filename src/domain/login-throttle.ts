import type { Clock } from "./clock.js";

/**
 * Brute-force brake for the password grant: failed attempts are counted per account and per client
 * address in a sliding window; past the limit, attempts are refused until the oldest failure ages out.
 * Successful logins do not count, so a user who knows their password is never locked out by their own use.
 */
export interface ThrottleLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { windowMs: 15 * 60_000, perAccount: 10, perAddress: 50 };

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
  ) {}

  /** Seconds to wait before another attempt is allowed; 0 when allowed now. */
  retryAfterSeconds(account: string, address: string): number {
    const now = this.clock.now();
    const wait = Math.max(
      this.waitFor(`a:${account}`, this.limits.perAccount, now),
      this.waitFor(`ip:${address}`, this.limits.perAddress, now),
    );
    return Math.ceil(wait / 1000);
  }

  /**
   * Counts an attempt as failed before its password is checked, so concurrent guesses cannot all slip
   * under the limit while the (slow) hash is verified; returns how to take it back if it succeeds.
   */
  beginAttempt(account: string, address: string): { succeeded(): void } {
    const now = this.clock.now();
    for (const key of [`a:${account}`, `ip:${address}`]) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.set(key, recent);
    }
    if (this.failures.size > 100_000) this.prune(now);
    return {
      succeeded: () => {
        this.failures.delete(`a:${account}`);
        const byAddress = this.failures.get(`ip:${address}`);
        const at = byAddress?.lastIndexOf(now) ?? -1;
        if (byAddress !== undefined && at >= 0) byAddress.splice(at, 1);
      },
    };
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => at > now - this.limits.windowMs);
  }

  private waitFor(key: string, limit: number, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < limit) return 0;
    const oldestThatMatters = recent[recent.length - limit] ?? now;
    return oldestThatMatters + this.limits.windowMs - now;
  }

  private prune(now: number): void {
    for (const [key, times] of this.failures) {
      if (times.every((at) => at <= now - this.limits.windowMs)) this.failures.delete(key);
    }
  }
}
