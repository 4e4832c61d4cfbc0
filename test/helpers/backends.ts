import { randomUUID } from "node:crypto";
import path from "node:path";
import { Redis } from "ioredis";
import type { SharedCounts } from "../../src/domain/rate-limiter.js";
import { RedisSharedCounts } from "../../src/index/redis/rate-counts.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import { openPostgresStore } from "../../src/store/postgres.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { adminQuery, postgresForTests } from "./postgres.js";
import { redisForTests } from "./redis.js";

/**
 * The record and hot index for one harness. Production: a PostgreSQL schema of its own and a Redis key
 * prefix of its own, so harnesses never share state and nothing is flushed; both are removed at close.
 */
export interface Backend {
  openStore(): KyselyStore;
  openIndex(): {
    index: RedisQueueIndex | undefined;
    rateCounts?: SharedCounts;
    close(): Promise<void>;
  };
  destroy(): Promise<void>;
}

export async function productionBackend(): Promise<Backend> {
  const url = await postgresForTests();
  const redisAt = await redisForTests();
  if (url === undefined || redisAt === undefined) throw new Error("production adapters unavailable");
  const schema = `t_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const prefix = `aqt-${schema}`;
  await adminQuery(url, `create schema ${schema}`);
  return {
    openStore: () => openPostgresStore(url, { schema, poolSize: 5 }),
    openIndex: () => {
      const redis = new Redis(redisAt.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
      return {
        index: new RedisQueueIndex(redis, { prefix }),
        rateCounts: new RedisSharedCounts(redis, `${prefix}:rl`),
        close: async () => void redis.disconnect(),
      };
    },
    async destroy() {
      await adminQuery(url, `drop schema ${schema} cascade`);
      const redis = new Redis(redisAt.url);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
    },
  };
}

export function embeddedBackend(dir: string): Backend {
  return {
    openStore: () => openSqliteStore(path.join(dir, "anteroom.db")),
    openIndex: () => ({ index: undefined, close: async () => {} }),
    destroy: async () => {},
  };
}
