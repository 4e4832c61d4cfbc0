import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ReadinessCheck } from "../../observability/readiness.js";
import { RedisQueueActivity } from "./activity.js";
import { RedisChangeEvents } from "./change-events.js";
import { connectRedis } from "./client.js";
import { redisLocks, type TryLock } from "./locks.js";
import { RedisQueueIndex } from "./redis-index.js";

/**
 * What every production process shares through Redis: the hot index, admin-change events, and locks.
 * Two connections: one for commands, one subscribed to the change and activity channels (a subscribed
 * connection can do nothing else).
 */
export interface SharedIndex {
  redis: Redis;
  index: RedisQueueIndex;
  events: RedisChangeEvents;
  /** Queue activity (release batches, expiries) between workers and API processes. */
  activity: RedisQueueActivity;
  tryLock: TryLock;
  readiness: ReadinessCheck;
  close(): Promise<void>;
}

export async function openSharedIndex(redisUrl: string, logger: Logger, role: string): Promise<SharedIndex> {
  const [redis, subscriber] = await Promise.all([
    connectRedis(redisUrl, logger, role),
    connectRedis(redisUrl, logger, `${role}-events`, { queueWhileDisconnected: true }),
  ]);
  const events = await RedisChangeEvents.start(redis, subscriber, "anteroom:changes", logger);
  return {
    redis,
    index: new RedisQueueIndex(redis),
    events,
    activity: new RedisQueueActivity(redis, subscriber, logger),
    tryLock: redisLocks(redis),
    readiness: {
      name: "index",
      check: async () => {
        await redis.ping();
      },
    },
    async close() {
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}
