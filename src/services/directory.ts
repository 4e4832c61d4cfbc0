import type { Clock } from "../domain/clock.js";
import { hashApiKey } from "../domain/secrets.js";
import type { ActiveQueue, Store } from "../store/types.js";

/**
 * Read-through caches for the visitor path, so a join costs no record read for the key or the queue.
 * Entries live a few seconds at most; admin changes in this process evict them at once (see ChangeEvents),
 * and the join's own transaction re-checks that the queue and application are still live.
 */
/** What the visitor path needs of the application an API key belongs to. */
export interface KeyApplication {
  id: string;
  /** Its own join limit, or null for the deployment's default. */
  maxJoinsPerSecond: number | null;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Bumped by every eviction: a load that began before one may carry what was evicted, and is not kept. */
  private generation = 0;
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The cached value, or a fresh load; `keep` decides whether a loaded value is worth caching. */
  async get(key: string, load: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.expiresAt > now) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (!keep(value) || generation !== this.generation) return value;
    // Full: drop the oldest entry (insertion order), never the whole cache.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    return value;
  }

  delete(key: string): void {
    this.generation += 1;
    this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }
}

export class VisitorDirectory {
  private readonly keys: TtlCache<KeyApplication | null>;
  private readonly queues: TtlCache<ActiveQueue | null>;

  constructor(
    private readonly store: Store,
    clock: Clock,
    ttlMs = 5_000,
  ) {
    this.keys = new TtlCache(clock, ttlMs, 10_000);
    this.queues = new TtlCache(clock, ttlMs, 100_000);
  }

  /**
   * The application an API key belongs to, or null. `beforeRead` runs when the key is not cached, before
   * the record is read (it may throw: the per-address limit on unknown keys).
   */
  async applicationForKey(apiKey: string, beforeRead?: () => void): Promise<KeyApplication | null> {
    const hash = hashApiKey(apiKey);
    // Unknown keys are not cached: random keys sprayed at /join must not push out the real ones.
    return this.keys.get(
      hash,
      async () => {
        beforeRead?.();
        const app = await this.store.applications.findByApiKeyHash(hash);
        return app === undefined ? null : { id: app.id, maxJoinsPerSecond: app.max_joins_per_second };
      },
      (app) => app !== null,
    );
  }

  async queue(queueId: string): Promise<ActiveQueue | null> {
    return this.queues.get(queueId, async () => (await this.store.queues.findActive(queueId)) ?? null);
  }

  /** An application changed (key rotated, deleted, renamed): forget every key and its queues. */
  applicationChanged(): void {
    this.keys.clear();
    this.queues.clear();
  }

  queueChanged(queueId: string): void {
    this.queues.delete(queueId);
  }
}
