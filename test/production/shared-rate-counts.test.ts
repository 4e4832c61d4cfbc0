import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/domain/clock.js";
import { RateLimiter } from "../../src/domain/rate-limiter.js";
import { RedisSharedCounts } from "../../src/index/redis/rate-counts.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { freePort } from "../helpers/process.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * One limit across API processes: counts shared through Redis (only for keys near their limit), and
 * every process falling back to its own counts when Redis cannot be reached.
 */
let redis: Redis;
const prefixes: string[] = [];

beforeAll(async () => {
  const found = await redisForTests();
  if (found === undefined) throw new Error("Redis is needed for the production project");
  redis = found.redis;
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
});

function sharedPrefix(): RedisSharedCounts {
  const prefix = `aqt-rl-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return new RedisSharedCounts(redis, prefix);
}

describe("two limiters over one Redis prefix", () => {
  it("share one count: the second admits what the first left, within the documented bound", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const shared = sharedPrefix();
    const rule = { name: "status", limit: 400, windowMs: 10_000 }; // cap = 50, pushes from 25
    const a = new RateLimiter(rule, clock, shared);
    const b = new RateLimiter(rule, clock, shared);
    let first = 0;
    for (let i = 0; i < 300; i++) {
      if (a.take("203.0.113.1") === 0) first += 1;
      if (i % 10 === 9) await a.sync();
    }
    await a.sync();
    expect(first).toBe(300);
    let second = 0;
    for (let i = 0; i < 400; i++) {
      if (b.take("203.0.113.1") === 0) second += 1;
      if (i % 10 === 9) await b.sync();
    }
    await b.sync();
    // Alone, b would admit 400; it admits what is left of the shared limit, give or take one cap.
    expect(second).toBeGreaterThanOrEqual(100);
    expect(first + second).toBeLessThan(400 + 2 * 50);
    // a hears of b's share with its next push (a few times a second in a server).
    expect(a.take("203.0.113.1")).toBe(0);
    await a.sync();
    expect(a.take("203.0.113.1")).toBeGreaterThan(0);
    // An ordinary key never reaches Redis.
    expect(b.take("203.0.113.2")).toBe(0);
    await b.sync();
    expect(await redis.keys(`${prefixes.at(-1)}:status:*`)).toHaveLength(1);
  });

  it("two apps (two processes) over one prefix refuse a flood from one address together", async () => {
    const shared = sharedPrefix();
    const apps: Harness[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        apps.push(await startHarness({ rateLimits: { statusPerSecond: 20 }, sharedRateCounts: shared }));
      }
      const [one, two] = apps as [Harness, Harness];
      two.clock.set(one.clock.now());
      const poll = (h: Harness) =>
        h.app.inject({ method: "GET", url: "/queue_status?token=forged", remoteAddress: "198.51.100.9" });
      // A server pushes a few times a second; here every tenth poll does (a forged token costs no I/O).
      const flood = async (h: Harness, n: number) => {
        let answered = 0;
        for (let i = 1; i <= n; i++) {
          if ((await poll(h)).statusCode === 401) answered += 1;
          if (i % 10 === 0) await h.rateLimits.sync();
        }
        return answered;
      };
      // 200 a ten-second window: each app alone would take 200 before refusing.
      expect(await flood(one, 150)).toBe(150);
      const answered = await flood(two, 150);
      expect(answered).toBeGreaterThanOrEqual(50);
      expect(answered).toBeLessThan(50 + 2 * 25);
      const refused = await poll(two);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: { code: "rate_limited" } });
      // The first app hears of the second's share with its next push.
      await flood(one, 10);
      expect((await poll(one)).statusCode).toBe(429);
    } finally {
      for (const h of apps) await h.close();
    }
  });
});

describe("Redis unreachable", () => {
  it("polls are still answered, and each process limits on its own counts", async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 500,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    });
    dead.on("error", () => {});
    const h = await startHarness({
      rateLimits: { statusPerSecond: 5 },
      sharedRateCounts: new RedisSharedCounts(dead, "unreachable"),
    });
    try {
      const poll = () =>
        h.app.inject({ method: "GET", url: "/queue_status?token=forged", remoteAddress: "198.51.100.10" });
      for (let i = 1; i <= 50; i++) {
        expect((await poll()).statusCode).toBe(401);
        if (i % 5 === 0) await h.rateLimits.sync(); // as the server's timer would
      }
      expect(h.rateLimits.failing).toBe(true);
      expect((await poll()).statusCode).toBe(429);
      const other = await h.app.inject({
        method: "GET",
        url: "/queue_status?token=forged",
        remoteAddress: "198.51.100.11",
      });
      expect(other.statusCode).toBe(401);
    } finally {
      await h.close();
      dead.disconnect();
    }
  });
});
