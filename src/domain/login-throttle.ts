import { createHash } from "node:crypto";
import { clientKey } from "./client-address.js";
import type { Clock } from "./clock.js";

/**
 * Brute-force brake for the password grant, built so that a stranger cannot lock an owner out:
 *
 * - Failures are counted per (account, client address) and per client address. Past either limit that
 *   address is refused (429 + Retry-After) until its window ends: whoever guesses locks out only himself.
 * - Failures on an account from every address together never refuse its right password; past a few they
 *   slow every attempt on the account down instead (the answer waits 250 ms, 500 ms, 1 s, ... up to 5 s),
 *   except from an address that logged into that account recently.
 *
 * An attempt counts as failed when it arrives, before the slow password check, so concurrent guesses cannot
 * slip under a limit; a success takes back only its own count. Client addresses are IPv4 addresses or IPv6
 * /64 networks (one host usually holds a whole /64). Windows are fixed: they start at a counter's first
 * failure and last `windowMs`.
 */
export interface LoginLimits {
  windowMs: number;
  /** Failures one address may make on one account per window. */
  perAccountAddress: number;
  /** Failures one address may make on all accounts together per window. */
  perAddress: number;
  /** Failures on one account (every address) per window before its attempts are delayed. */
  accountFreeFailures: number;
  /** The first delay; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** How long an address that logged into an account stays trusted (not delayed) for it. */
  trustMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  windowMs: 15 * 60_000,
  perAccountAddress: 10,
  perAddress: 50,
  accountFreeFailures: 10,
  firstDelayMs: 250,
  maxDelayMs: 5_000,
  trustMs: 7 * 24 * 3600_000,
};

export interface Counted {
  /** The counter's value after the change, this attempt included. */
  count: number;
  /** Milliseconds until the counter's window ends and it starts again from zero. */
  resetInMs: number;
}

/**
 * Where the counters live: in this process (`MemoryLoginAttempts`), or in Redis so that every API process
 * shares them (src/index/redis/login-attempts.ts). Each counter changes atomically on its own; the throttle
 * needs nothing atomic across counters.
 */
export interface LoginAttemptStore {
  /** Adds one to each counter; one that did not exist (or had expired) starts a window of `windowMs` now. */
  increment(keys: readonly string[], windowMs: number): Promise<Counted[]>;
  /** Takes one back from each counter that still exists. */
  decrement(keys: readonly string[]): Promise<void>;
  /** Sets a marker for `ttlMs` from now (renewing it when set). */
  mark(key: string, ttlMs: number): Promise<void>;
  isMarked(key: string): Promise<boolean>;
}

export type LoginAttempt =
  | { allowed: false; retryAfterSeconds: number }
  | {
      allowed: true;
      /** Takes back this attempt's counts (it was not a failure) and trusts its address for the account. */
      succeeded(): Promise<void>;
    };

export interface LoginThrottleOptions {
  limits?: Partial<LoginLimits>;
  /** Default: counters in this process, bounded in size. */
  store?: LoginAttemptStore;
  /** How the delay is waited out; tests observe it instead of the wall clock. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LoginThrottle {
  readonly limits: LoginLimits;
  private readonly store: LoginAttemptStore;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(clock: Clock, options: LoginThrottleOptions = {}) {
    this.limits = { ...DEFAULT_LOGIN_LIMITS, ...options.limits };
    this.store = options.store ?? new MemoryLoginAttempts(clock);
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * Counts an attempt on `account` from `address` as failed and decides whether its password may be
   * checked, waiting out the account's delay first when it is under attack.
   */
  async begin(account: string, address: string): Promise<LoginAttempt> {
    const { limits } = this;
    const who = accountKey(account);
    const from = clientKey(address);
    const mine = [`p:${who}:${from}`, `ip:${from}`];
    const [pair, byAddress] = await this.store.increment(mine, limits.windowMs);
    if (pair === undefined || byAddress === undefined)
      throw new Error("login counters answered too few counts");
    const overPair = pair.count > limits.perAccountAddress;
    const overAddress = byAddress.count > limits.perAddress;
    if (overPair || overAddress) {
      // A refused attempt checks no password, so it is no failure: give its counts back. Concurrent ones
      // still each saw their own count above, so no more than the limit get through.
      await this.store.decrement(mine);
      const waitMs = Math.max(overPair ? pair.resetInMs : 0, overAddress ? byAddress.resetInMs : 0);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    const trustKey = `t:${who}:${from}`;
    const [[onAccount], trusted] = await Promise.all([
      this.store.increment([`a:${who}`], limits.windowMs),
      this.store.isMarked(trustKey),
    ]);
    const delayMs = trusted ? 0 : delayFor((onAccount?.count ?? 1) - 1, limits);
    if (delayMs > 0) await this.sleep(delayMs);
    const counted = [...mine, `a:${who}`];
    return {
      allowed: true,
      succeeded: async () => {
        await Promise.all([this.store.decrement(counted), this.store.mark(trustKey, limits.trustMs)]);
      },
    };
  }
}

/** The wait before an attempt on an account that has `failures` other failures in its window. */
export function delayFor(failures: number, limits: LoginLimits): number {
  const over = failures - limits.accountFreeFailures;
  if (over < 0) return 0;
  return Math.min(limits.maxDelayMs, limits.firstDelayMs * 2 ** Math.min(over, 30));
}

/** Accounts by a digest of the normalized username: short keys, and no e-mail addresses in Redis. */
function accountKey(account: string): string {
  return createHash("sha256").update(account).digest("base64url").slice(0, 22);
}

interface Counter {
  count: number;
  expiresAt: number;
}

/**
 * The counters in this process: embedded mode, and the fallback while Redis cannot be reached. Bounded:
 * entries sit in a Map in the order they were created, which is the order they expire in (one window
 * length), so expired ones are dropped from the front without scanning the rest; past `maxEntries` the
 * oldest go first.
 */
export class MemoryLoginAttempts implements LoginAttemptStore {
  private readonly counters = new Map<string, Counter>();
  private readonly marks = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 100_000,
  ) {}

  /** Entries held now (counters and markers), for tests of the bound. */
  get size(): number {
    return this.counters.size + this.marks.size;
  }

  // Each call changes the maps in one synchronous step (nothing awaited), so concurrent attempts each see
  // the counts of those before them.
  increment(keys: readonly string[], windowMs: number): Promise<Counted[]> {
    const now = this.clock.now();
    this.expire(now);
    const counted = keys.map((key) => {
      let counter = this.counters.get(key);
      if (counter === undefined || counter.expiresAt <= now) {
        // Deleted first so a restarted window goes to the back, keeping creation order = expiry order.
        this.counters.delete(key);
        counter = { count: 0, expiresAt: now + windowMs };
        this.counters.set(key, counter);
      }
      counter.count += 1;
      return { count: counter.count, resetInMs: counter.expiresAt - now };
    });
    this.bound(this.counters);
    return Promise.resolve(counted);
  }

  decrement(keys: readonly string[]): Promise<void> {
    const now = this.clock.now();
    for (const key of keys) {
      const counter = this.counters.get(key);
      if (counter === undefined) continue;
      counter.count -= 1;
      if (counter.count <= 0 || counter.expiresAt <= now) this.counters.delete(key);
    }
    return Promise.resolve();
  }

  mark(key: string, ttlMs: number): Promise<void> {
    const now = this.clock.now();
    this.expire(now);
    this.marks.delete(key);
    this.marks.set(key, now + ttlMs);
    this.bound(this.marks);
    return Promise.resolve();
  }

  isMarked(key: string): Promise<boolean> {
    return Promise.resolve((this.marks.get(key) ?? 0) > this.clock.now());
  }

  private expire(now: number): void {
    for (const [key, counter] of this.counters) {
      if (counter.expiresAt > now) break;
      this.counters.delete(key);
    }
    for (const [key, expiresAt] of this.marks) {
      if (expiresAt > now) break;
      this.marks.delete(key);
    }
  }

  private bound(map: Map<string, unknown>): void {
    for (const key of map.keys()) {
      if (map.size <= this.maxEntries) break;
      map.delete(key);
    }
  }
}
