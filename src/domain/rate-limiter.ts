import type { Clock } from "./clock.js";

/**
 * Request rate limits: a sliding-window approximation per key (a client address, an application). Each
 * rule counts admitted requests in fixed windows, and judges a request by the current window's count plus
 * the previous window's, weighted by how much of it still overlaps the sliding window. Counters live in
 * two Maps, the current and the previous window's, swapped at each rollover, so keys nobody uses any more
 * go with the old Map, without a scan. A key already seen in this window costs one Map lookup; its first
 * request in a window also looks in the previous Map and moves its entry over (no new object).
 *
 * With several processes (production), an optional SharedCounts store makes one limit across them without
 * a round trip per request: each process counts locally, and only a key whose local count in the window
 * reaches half of cap = max(16, ceil(limit / 8)) has its counts pushed (then at every sync, and at once
 * whenever another half cap is unpushed); the reply is the key's total across processes, and the process
 * decides on that total plus its own requests the store has not acknowledged yet. A process never holds
 * `cap` or more unacknowledged requests for a key (it refuses for the moment a push takes), so in one
 * window a key's total across N processes stays below limit + N × cap (and no process ever admits more
 * than the limit on its own). When the shared store fails or stalls, each process falls back to its own
 * counts (fail open) until a push succeeds again.
 */

export interface RateRule {
  /** Names the rule in shared counter keys. */
  name: string;
  /** Requests admitted per window; 0 turns the rule off. */
  limit: number;
  windowMs: number;
  /** New keys beyond this many in one window are not counted (fail open) until the next window. */
  maxKeys?: number;
}

export interface SharedIncrement {
  key: string;
  delta: number;
  /** How long the counter must outlive its window. */
  ttlMs: number;
}

/** Counters shared by every process (Redis in production). */
export interface SharedCounts {
  /** Adds each delta to its counter and returns the counters' new values in order; rejects when unreachable. */
  add(increments: readonly SharedIncrement[]): Promise<readonly number[]>;
}

interface Entry {
  key: string;
  /** The window this entry counts. */
  window: number;
  /** Requests this process admitted in the window. */
  count: number;
  /** The previous window's total, as this process knew it when the window began. */
  previous: number;
  /** The part of `count` the shared store has acknowledged. */
  pushed: number;
  /** The part of `count` on its way to the shared store. */
  sending: number;
  /** The shared total of the window at the last push (ours included); -1 before the first. */
  total: number;
  /** Waiting in the sync list. */
  queued: boolean;
}

const DEFAULT_MAX_KEYS = 100_000;
/** After a failed sync, the shared store is tried again after this long (counts stay local meanwhile). */
const SHARED_RETRY_MS = 5_000;
/** A sync not answered within this long is treated as failed for decisions (fail open, not refuse). */
const SYNC_STALL_MS = 250;
/** The least `cap` (see take): small limits would otherwise refuse any two requests within a round trip. */
const MIN_CAP = 16;
const NO_ENTRIES: ReadonlyMap<string, Entry> = new Map();

export class RateLimiter {
  readonly windowMs: number;
  readonly limit: number;
  private readonly maxKeys: number;
  private window = Number.NEGATIVE_INFINITY;
  private current = new Map<string, Entry>();
  private previous: ReadonlyMap<string, Entry> = NO_ENTRIES;
  private pending: Entry[] = [];
  private syncing = false;
  private syncStarted = 0;
  /** A sync is scheduled for the next turn of the event loop. */
  private syncScheduled = false;
  /** A key needed pushing while a sync was running: sync once more when it ends. */
  private syncAgain = false;
  private sharedDownUntil = 0;
  private lastSyncFailed = false;

  constructor(
    readonly rule: RateRule,
    private readonly clock: Clock,
    private readonly shared?: SharedCounts,
  ) {
    this.windowMs = rule.windowMs;
    this.limit = rule.limit;
    this.maxKeys = rule.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  /**
   * Counts a request for `key` when the limit allows it and returns 0; otherwise returns the seconds to
   * wait (at least 1) and counts nothing. `limit` overrides the rule's (per window; 0 = no limit).
   */
  take(key: string, limit = this.limit): number {
    if (limit <= 0) return 0;
    const now = this.clock.now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) this.roll(window);
    const entry = this.current.get(key) ?? this.enter(key, window);
    if (entry === undefined) return 0; // full this window: fail open rather than refuse unknown keys
    const sharing = this.shared !== undefined && this.sharedUsable(now);
    const counted = totalOf(entry, sharing);
    const elapsed = now - window * this.windowMs;
    const estimate = entry.previous * (1 - elapsed / this.windowMs) + counted;
    if (estimate >= limit) return this.wait(entry.previous, counted, limit, elapsed);
    if (this.shared !== undefined) {
      // At most `cap` requests not yet acknowledged by the shared store: what bounds the overshoot across
      // processes. Pushing starts at half of it, so only a flood reaches the cap within one round trip
      // (and 16 at least, so that a few requests at once under a small limit are not refused for it).
      // While the store fails, nothing is refused for it: the counts are pushed when it answers again.
      const cap = Math.max(MIN_CAP, Math.ceil(limit / 8));
      if (sharing && entry.count - entry.pushed >= cap) {
        this.requestSync();
        return 1;
      }
      entry.count += 1;
      const half = Math.ceil(cap / 2);
      if (entry.total >= 0 || entry.count >= half) {
        this.enqueue(entry, sharing && entry.count - entry.pushed - entry.sending >= half);
      }
      return 0;
    }
    entry.count += 1;
    return 0;
  }

  /** The seconds `take` would ask to wait now (0: it would admit), without counting anything. */
  check(key: string, limit = this.limit): number {
    if (limit <= 0) return 0;
    const now = this.clock.now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) this.roll(window);
    const shared = this.shared !== undefined && this.sharedUsable(now);
    const entry = this.current.get(key);
    const before = entry === undefined ? this.previous.get(key) : undefined;
    const previous = entry?.previous ?? (before === undefined ? 0 : totalOf(before, shared));
    const counted = entry === undefined ? 0 : totalOf(entry, shared);
    const elapsed = now - window * this.windowMs;
    const estimate = previous * (1 - elapsed / this.windowMs) + counted;
    return estimate >= limit ? this.wait(previous, counted, limit, elapsed) : 0;
  }

  /**
   * Pushes the unpushed counts of the keys that need sharing. After a failure, decisions use this
   * process's counts until a push succeeds again (tried after SHARED_RETRY_MS).
   */
  async sync(): Promise<void> {
    const shared = this.shared;
    if (shared === undefined || this.syncing || this.pending.length === 0) return;
    const now = this.clock.now();
    if (now < this.sharedDownUntil) return;
    const window = Math.floor(now / this.windowMs);
    const batch: Entry[] = [];
    const deltas: number[] = [];
    const increments: SharedIncrement[] = [];
    for (const entry of this.pending.splice(0)) {
      entry.queued = false;
      // Only this window's and the previous one's counters are still read (the latter by processes whose
      // clocks lag a little); older counts would go to counters nobody reads.
      if (entry.window < window - 1) continue;
      batch.push(entry);
      const delta = entry.count - entry.pushed - entry.sending;
      entry.sending += delta;
      deltas.push(delta);
      increments.push({
        key: `${this.rule.name}:${entry.window}:${entry.key}`,
        delta,
        ttlMs: 2 * this.windowMs,
      });
    }
    if (batch.length === 0) return;
    this.syncing = true;
    this.syncStarted = now;
    try {
      const totals = await shared.add(increments);
      batch.forEach((entry, i) => {
        const delta = deltas[i] ?? 0;
        entry.sending -= delta;
        entry.pushed += delta;
        entry.total = Math.max(entry.total, totals[i] ?? entry.total);
      });
      this.lastSyncFailed = false;
    } catch {
      this.lastSyncFailed = true;
      this.sharedDownUntil = this.clock.now() + SHARED_RETRY_MS;
      // Pushed again with the next attempt (sync drops those whose window has passed by then).
      batch.forEach((entry, i) => {
        entry.sending -= deltas[i] ?? 0;
        this.enqueue(entry, false);
      });
    } finally {
      this.syncing = false;
    }
    if (this.syncAgain) {
      this.syncAgain = false;
      await this.sync();
    }
  }

  /** The last push to the shared store failed: decisions use this process's counts until one succeeds. */
  get failing(): boolean {
    return this.lastSyncFailed;
  }

  /** Decide on shared totals: the last push succeeded, and the one under way (if any) is not stalled. */
  private sharedUsable(now: number): boolean {
    return !this.lastSyncFailed && !(this.syncing && now - this.syncStarted > SYNC_STALL_MS);
  }

  private roll(window: number): void {
    // Consecutive windows: the current one becomes the previous; after a gap nothing carries over.
    this.previous = window === this.window + 1 ? this.current : NO_ENTRIES;
    this.current = new Map();
    this.window = window;
  }

  /** The key's entry for this window, carrying its previous window's total; undefined when full. */
  private enter(key: string, window: number): Entry | undefined {
    if (this.current.size >= this.maxKeys) return undefined;
    const before = this.previous.get(key);
    const previous = before === undefined ? 0 : totalOf(before, this.sharedUsable(this.clock.now()));
    let entry: Entry;
    if (before !== undefined && !before.queued && before.sending === 0) {
      // Reused: a returning key costs no allocation (its old window has nothing left to push).
      entry = before;
      entry.window = window;
      entry.count = 0;
      entry.previous = previous;
      entry.pushed = 0;
      entry.total = -1;
    } else {
      entry = { key, window, count: 0, previous, pushed: 0, sending: 0, total: -1, queued: false };
    }
    this.current.set(key, entry);
    return entry;
  }

  private enqueue(entry: Entry, urgent: boolean): void {
    if (!entry.queued) {
      entry.queued = true;
      this.pending.push(entry);
    }
    if (urgent) this.requestSync();
  }

  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      void this.sync();
    });
  }

  /** Seconds until the estimate falls below the limit if nothing more is admitted. */
  private wait(previous: number, counted: number, limit: number, elapsed: number): number {
    const ms =
      counted >= limit
        ? // This window has to end, then its weight fade: counted × (1 - t/W) < limit.
          this.windowMs - elapsed + this.windowMs * (1 - limit / counted)
        : // The previous window's weight has to fade: previous × (1 - (elapsed + t)/W) + counted < limit.
          this.windowMs * (1 - (limit - counted) / previous) - elapsed;
    return Math.max(1, Math.ceil(ms / 1000));
  }
}

/** A window's total as this process knows it: the last shared total plus what it has not pushed since. */
function totalOf(entry: Entry, shared: boolean): number {
  return shared && entry.total >= 0 ? entry.total + entry.count - entry.pushed : entry.count;
}
