import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisLocks, type TryLock, withLock } from "../../src/index/redis/locks.js";
import { redisForTests } from "../helpers/redis.js";

/** Locks between workers, on a real Redis (production project only). */
let redis: Redis;
let tryLock: TryLock;
beforeAll(async () => {
  const at = await redisForTests();
  if (at === undefined) throw new Error("redis unavailable");
  redis = new Redis(at.url);
  tryLock = redisLocks(redis, `aqt-locks-${randomUUID()}:`);
});
afterAll(() => redis.disconnect());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker locks", () => {
  it("are exclusive until released, and a release never frees a lock someone else took since", async () => {
    const first = await tryLock("a", 200);
    expect(first).toBeDefined();
    expect(await tryLock("a", 200)).toBeUndefined();
    await sleep(300); // expired: the holder died, say
    const second = await tryLock("a", 10_000);
    expect(second).toBeDefined();
    await first?.release(); // the late first holder must not free the second's lock
    expect(await first?.renew()).toBe(false);
    expect(await tryLock("a", 200)).toBeUndefined();
    await second?.release();
    expect(await tryLock("a", 200)).toBeDefined();
  });

  it("are renewed while a long task runs and released when it ends, failed or not", async () => {
    const running = withLock(tryLock, "long", 300, async () => {
      await sleep(1_000); // over three times the ttl
      return 42;
    });
    for (let i = 0; i < 4; i++) {
      await sleep(200);
      expect(await tryLock("long", 300)).toBeUndefined();
    }
    expect(await running).toEqual({ result: 42 });
    const after = await tryLock("long", 300);
    expect(after).toBeDefined();
    await after?.release();

    await expect(
      withLock(tryLock, "failing", 10_000, async () => {
        throw new Error("rebuild failed");
      }),
    ).rejects.toThrow("rebuild failed");
    expect(await tryLock("failing", 10_000)).toBeDefined();
  });

  it("skip the task when another holds the lock", async () => {
    const held = await tryLock("busy", 10_000);
    let ran = false;
    expect(
      await withLock(tryLock, "busy", 10_000, async () => {
        ran = true;
      }),
    ).toBeUndefined();
    expect(ran).toBe(false);
    await held?.release();
  });
});
