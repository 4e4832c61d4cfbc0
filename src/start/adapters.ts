import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { Clock } from "../domain/clock.js";
import { type ChangeEvents, LocalChangeEvents } from "../domain/events.js";
import type { LoginAttemptStore } from "../domain/login-throttle.js";
import type { SharedCounts } from "../domain/rate-limiter.js";
import type { QueueActivity } from "../index/activity.js";
import { MemoryQueueIndex } from "../index/memory/memory-index.js";
import type { TryLock } from "../index/redis/locks.js";
import { sharedLoginAttempts } from "../index/redis/login-attempts.js";
import { RedisSharedCounts } from "../index/redis/rate-counts.js";
import { openSharedIndex } from "../index/redis/shared.js";
import type { QueueIndex } from "../index/types.js";
import type { ReadinessCheck } from "../observability/readiness.js";
import type { KyselyStore } from "../store/kysely/store.js";
import { openPostgresStore } from "../store/postgres.js";
import { openSqliteStore } from "../store/sqlite.js";

/**
 * The one place that tells embedded and production apart. Embedded: a SQLite record, the hot index in this
 * process, change events within it, and nothing to share. Production: PostgreSQL, and Redis for the hot
 * index, the change events between processes, the workers' locks and the counters API processes share.
 */
export function openRecord(config: Config): KyselyStore {
  return config.mode === "production"
    ? openPostgresStore(config.database.url)
    : openSqliteStore(config.database.url);
}

/** What a process shares with the others (through Redis), or keeps to itself (embedded). */
export interface Shared {
  index: QueueIndex;
  /** Where admin changes are published, and where this process hears them (itself included). */
  events: { publish: ChangeEvents; local: LocalChangeEvents };
  /**
   * Queue activity shared between processes (Redis pub/sub); undefined when API and worker share this
   * process, which then uses one in-process emitter (ProcessParts.activity).
   */
  activity?: QueueActivity;
  /** Locks between workers (index upkeep); undefined when this process is the only one. */
  tryLock: TryLock | undefined;
  /** Login failure counters shared by API processes; undefined: each process counts its own. */
  loginAttempts: LoginAttemptStore | undefined;
  /** Rate-limit counts shared by API processes; undefined: each process counts its own. */
  rateCounts: SharedCounts | undefined;
  /** Dependencies besides the record that /readyz asks about. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

export async function openShared(
  config: Config,
  deps: { clock: Clock; logger: Logger },
  role: "api" | "worker",
): Promise<Shared> {
  if (config.mode === "embedded") {
    const index = new MemoryQueueIndex();
    const local = new LocalChangeEvents();
    return {
      index,
      events: { publish: local, local },
      tryLock: undefined,
      loginAttempts: undefined,
      rateCounts: undefined,
      readiness: [],
      close: () => index.close(),
    };
  }
  if (config.redisUrl === undefined) throw new Error("REDIS_URL is required in production mode");
  const redis = await openSharedIndex(config.redisUrl, deps.logger, role);
  return {
    index: redis.index,
    events: { publish: redis.events, local: redis.events.local },
    activity: redis.activity,
    tryLock: redis.tryLock,
    loginAttempts: sharedLoginAttempts(redis.redis, deps.clock, deps.logger),
    rateCounts: new RedisSharedCounts(redis.redis),
    readiness: [redis.readiness],
    close: () => redis.close(),
  };
}
