import type { Clock } from "../domain/clock.js";
import type { OriginPolicy } from "../domain/model.js";
import { hashApiKey } from "../domain/secrets.js";
import type { ActiveQueue, Application, Store } from "../store/types.js";

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
  /** Resolved from the publishable key (a page), not the secret API key (the site's server). */
  publishable: boolean;
  /** Where its publishable key may be used from (see domain/origins.ts). */
  domain: string;
  originPolicy: OriginPolicy;
}

/** What anyone may know of an application: enough for a page to join its queues. */
export interface PublicApplication {
  id: string;
  publishable_key: string;
}

/** Return addresses of released tickets kept (they never change), so repeat polls read nothing. */
const RETURN_TO_ENTRIES = 10_000;

/** Publishable keys as this service issues them (`pk_` and base64url); nothing else is worth a read. */
const PUBLISHABLE_KEY = /^pk_[A-Za-z0-9_-]{1,64}$/;

export function isPublishableKey(key: string): boolean {
  return key.startsWith("pk_");
}

function keyApplication(app: Application, publishable: boolean): KeyApplication {
  return {
    id: app.id,
    maxJoinsPerSecond: app.max_joins_per_second,
    publishable,
    domain: app.domain,
    originPolicy: app.origin_policy,
  };
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
  private readonly publicApps: TtlCache<PublicApplication | null>;
  private readonly returnTos = new Map<string, string | null>();

  constructor(
    private readonly store: Store,
    clock: Clock,
    ttlMs = 5_000,
  ) {
    this.keys = new TtlCache(clock, ttlMs, 10_000);
    this.queues = new TtlCache(clock, ttlMs, 100_000);
    this.publicApps = new TtlCache(clock, ttlMs, 10_000);
  }

  /**
   * The application an API key belongs to, or null. `beforeRead` runs when the key is not cached, before
   * the record is read (it may throw: the per-address limit on unknown keys).
   */
  async applicationForKey(apiKey: string, beforeRead?: () => void): Promise<KeyApplication | null> {
    if (isPublishableKey(apiKey)) return this.applicationForPublishableKey(apiKey, beforeRead);
    const hash = hashApiKey(apiKey);
    // Unknown keys are not cached: random keys sprayed at /join must not push out the real ones.
    return this.keys.get(
      hash,
      async () => {
        beforeRead?.();
        const app = await this.store.applications.findByApiKeyHash(hash);
        return app === undefined ? null : keyApplication(app, false);
      },
      (app) => app !== null,
    );
  }

  /**
   * The same for a publishable key, cached beside the secret keys' hashes (a `pk_` entry never looks like
   * a hex digest). The key is public, so it is cached as it is; a key of a form never issued costs nothing.
   */
  private async applicationForPublishableKey(
    key: string,
    beforeRead?: () => void,
  ): Promise<KeyApplication | null> {
    return this.keys.get(
      key,
      async () => {
        beforeRead?.();
        if (!PUBLISHABLE_KEY.test(key)) return null;
        const app = await this.store.applications.findByPublishableKey(key);
        return app === undefined ? null : keyApplication(app, true);
      },
      (app) => app !== null,
    );
  }

  /**
   * A live application's public face, for pages that know only its id; null when there is none. Unknown
   * ids are not cached, and `beforeRead` runs before one costs a record read (as for API keys).
   */
  async publicApplication(id: string, beforeRead?: () => void): Promise<PublicApplication | null> {
    return this.publicApps.get(
      id,
      async () => {
        beforeRead?.();
        const app = await this.store.applications.findById(id);
        return app === undefined ? null : { id: app.id, publishable_key: app.publishable_key };
      },
      (app) => app !== null,
    );
  }

  /**
   * A released ticket's return address. The hot index does not carry it, so it comes from the record:
   * once per ticket (it never changes), at its first released answer, which writes the record anyway.
   * Waiting visitors' polls never come here.
   */
  async returnTo(queueId: string, seq: number): Promise<string | null> {
    const key = `${queueId}:${seq}`;
    const known = this.returnTos.get(key);
    if (known !== undefined) return known;
    const returnTo = (await this.store.tickets.findBySeq(queueId, seq))?.return_to ?? null;
    // Full: drop the oldest (insertion order); a dropped ticket costs one more read if polled again.
    if (this.returnTos.size >= RETURN_TO_ENTRIES) {
      const oldest = this.returnTos.keys().next();
      if (oldest.done !== true) this.returnTos.delete(oldest.value);
    }
    this.returnTos.set(key, returnTo);
    return returnTo;
  }

  async queue(queueId: string): Promise<ActiveQueue | null> {
    return this.queues.get(queueId, async () => (await this.store.queues.findActive(queueId)) ?? null);
  }

  /**
   * An application changed (a key rotated, its domain or origin policy changed, deleted): forget every
   * key, public face and queue.
   */
  applicationChanged(): void {
    this.keys.clear();
    this.queues.clear();
    this.publicApps.clear();
  }

  queueChanged(queueId: string): void {
    this.queues.delete(queueId);
  }
}
