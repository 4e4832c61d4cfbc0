import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { RateLimits } from "../../domain/rate-limit.js";
import type { SharedCounts, SharedIncrement } from "../../domain/rate-limiter.js";

/**
 * Rate-limit counters shared by every API process, in Redis: one counter per rule, window and key,
 * incremented by each process's unpushed counts (INCRBY) and expiring after its window (PEXPIRE), all of a
 * sync in one pipeline. Only keys near their limit are ever pushed (see domain/rate-limit.ts), so an
 * ordinary visitor costs Redis nothing.
 */
export class RedisSharedCounts implements SharedCounts {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "anteroom:rl",
  ) {}

  async add(increments: readonly SharedIncrement[]): Promise<readonly number[]> {
    if (increments.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { key, delta, ttlMs } of increments) {
      pipeline.incrby(`${this.prefix}:${key}`, delta);
      pipeline.pexpire(`${this.prefix}:${key}`, ttlMs);
    }
    const replies = (await pipeline.exec()) ?? [];
    return increments.map((_, i) => {
      const [error, total] = replies[2 * i] ?? [new Error("missing reply"), null];
      if (error !== null) throw error;
      return Number(total);
    });
  }
}

/**
 * Pushes the limits' shared counts every `intervalMs` (keys that pass half their cap are pushed at once
 * too). Logs when Redis stops and starts answering; meanwhile each process limits on its own counts.
 */
export function syncRateCounts(limits: RateLimits, intervalMs: number, logger: Logger): () => void {
  let failing = false;
  const timer = setInterval(() => {
    limits
      .sync()
      .then(() => {
        if (limits.failing === failing) return;
        failing = limits.failing;
        if (failing) logger.warn("redis unreachable: rate limits count per process until it answers");
        else logger.info("rate limits shared through redis again");
      })
      .catch((error: unknown) => logger.error({ err: error }, "rate-limit sync failed"));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
