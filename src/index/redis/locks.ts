import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Exclusive, expiring locks across workers (Redis SET NX PX with a random owner token). The expiry only
 * covers a holder that died: a holder releases its lock when done, and renews it while a long task runs.
 */
export interface HeldLock {
  /** Gives the lock up, if it is still ours. */
  release(): Promise<void>;
  /** Extends the lock by its ttl; false when it is no longer ours (it expired and another took it). */
  renew(): Promise<boolean>;
}

/** Takes a lock, or answers undefined when another holder has it. */
export type TryLock = (name: string, ttlMs: number) => Promise<HeldLock | undefined>;

const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
const RENEW = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

export function redisLocks(redis: Redis, prefix = "anteroom:lock:"): TryLock {
  return async (name, ttlMs) => {
    const key = `${prefix}${name}`;
    const owner = randomUUID();
    if ((await redis.set(key, owner, "PX", ttlMs, "NX")) !== "OK") return undefined;
    return {
      release: async () => {
        await redis.eval(RELEASE, 1, key, owner);
      },
      renew: async () => (await redis.eval(RENEW, 1, key, owner, String(ttlMs))) === 1,
    };
  };
}

/**
 * Runs `task` under the lock `name`, renewing it every third of its ttl while the task runs and releasing
 * it afterwards, failed or not. Returns undefined (without running the task) when another holder has it.
 */
export async function withLock<T>(
  tryLock: TryLock,
  name: string,
  ttlMs: number,
  task: () => Promise<T>,
): Promise<{ result: T } | undefined> {
  const lock = await tryLock(name, ttlMs);
  if (lock === undefined) return undefined;
  const renewal = setInterval(() => {
    lock.renew().catch(() => {
      // Redis away for a moment: the next renewal tries again; the ttl covers the gap.
    });
  }, ttlMs / 3);
  renewal.unref();
  try {
    return { result: await task() };
  } finally {
    clearInterval(renewal);
    await lock.release().catch(() => {
      // Unreachable: the lock simply expires.
    });
  }
}
