import { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * A Redis connection for the hot path: commands fail at once while the server is unreachable (no offline
 * queue, so a status poll answers 503 instead of hanging) and the client keeps reconnecting in the
 * background, so service resumes on its own when Redis is back.
 */
export function connectRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: `anteroom-${name}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
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
  return redis;
}
