import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ReadinessCheck } from "../../observability/readiness.js";
import { RedisChangeEvents } from "./change-events.js";
import { connectRedis } from "./client.js";
import { redisLocks, type TryLock } from "./locks.js";
import { RedisQueueIndex } from "./redis-index.js";

/**
 * What every production process shares through Redis: the hot index, admin-change events, and locks.
 * Two connections: one for commands, one subscribed to the change channel (a subscribed connection can
 * do nothing else).
 */
export interface SharedIndex {
  redis: Redis;
  index: RedisQueueIndex;
  events: RedisChangeEvents;
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
