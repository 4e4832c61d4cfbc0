import { once } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A Redis connection for the hot path: commands fail at once while the server is unreachable (no offline
 * queue, so a status poll answers 503 instead of hanging) and the client keeps reconnecting in the
 * background, so service resumes on its own when Redis is back. At start-up it waits a few seconds for
 * the first connection, then carries on either way (the process reports itself not ready meanwhile).
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  name: string,
  options: { queueWhileDisconnected?: boolean } = {},
): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: `anteroom-${name}`,
    // A subscriber only subscribes: queueing that until connected is right, and it resubscribes itself.
    enableOfflineQueue: options.queueWhileDisconnected ?? false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.queueWhileDisconnected === true ? undefined : 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  });
  let down = false;
  redis.on("error", (error: Error) => {
    if (!down) logger.warn({ err: error.message, connection: name }, "redis unreachable; retrying");
    down = true;
  });
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "redis reachable again");
    down = false;
  });
  if (redis.status !== "ready") {
    const timeout = AbortSignal.timeout(5_000);
    await once(redis, "ready", { signal: timeout }).catch(() => {
      logger.warn({ connection: name }, "redis not reachable at start-up; continuing, it will be retried");
    });
  }
  return redis;
}
