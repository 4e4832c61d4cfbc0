import { randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/domain/clock.js";
import {
  type LoginAttemptStore,
  type LoginLimits,
  LoginThrottle,
  MemoryLoginAttempts,
} from "../../src/domain/login-throttle.js";
import { RedisLoginAttempts, sharedLoginAttempts } from "../../src/index/redis/login-attempts.js";
import { currentAdapter, type Harness, PASSWORD, startHarness } from "../helpers/harness.js";
import { freePort } from "../helpers/process.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * Login limits over HTTP, on the project's counters: in this process (embedded) or in Redis (production).
 * Client addresses come from `remoteAddress`; the delay is observed through the throttle's sleep function,
 * never the wall clock.
 */
const production = currentAdapter() === "production";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisUrl(): Promise<string> {
  const found = await redisForTests();
  if (found === undefined) throw new Error("Redis unavailable");
  return found.url;
}

/** A Redis key prefix of the test's own, removed afterwards. */
async function redisCounters(prefix: string): Promise<RedisLoginAttempts> {
  const redis = new Redis(await redisUrl());
  cleanups.push(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  return new RedisLoginAttempts(redis, prefix);
}

interface Limited {
  h: Harness;
  clock: ManualClock;
  /** Every delay the throttle waited out, in order. */
  sleeps: number[];
  attempt(address: string, username: string, password: string): Promise<LightMyRequestResponse>;
}

async function limited(
  options: { store?: LoginAttemptStore; clock?: ManualClock; limits?: Partial<LoginLimits> } = {},
): Promise<Limited> {
  const clock = options.clock ?? new ManualClock(Date.now());
  const store =
    options.store ??
    (production ? await redisCounters(`aqt-login-${randomUUID()}:`) : new MemoryLoginAttempts(clock));
  const sleeps: number[] = [];
  const throttle = new LoginThrottle(clock, {
    store,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const h = await startHarness({ throttle });
  cleanups.push(() => h.close());
  return {
    h,
    clock,
    sleeps,
    attempt: (address, username, password) =>
      h.app.inject({
        method: "POST",
        url: "/auth/token",
        remoteAddress: address,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ grant_type: "password", username, password }).toString(),
      }),
  };
}

const OWNER = "owner@example.com";

describe("login limits: a stranger locks out only himself", () => {
  it("wrong passwords from many other addresses never make the owner's right password fail", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    for (let host = 1; host <= 4; host++) {
      for (let guess = 0; guess < 10; guess++) {
        const wrong = await t.attempt(`198.51.100.${host}`, OWNER, `guess-${host}-${guess}`);
        expect(wrong.statusCode).toBe(400);
      }
      const refused = await t.attempt(`198.51.100.${host}`, OWNER, `guess-${host}-more`);
      expect(refused.statusCode).toBe(429);
    }
    // 40 failures on the account: the owner, from an address never seen, is slowed down, not refused.
    const owner = await t.attempt("203.0.113.7", OWNER, PASSWORD);
    expect(owner.statusCode).toBe(200);
    expect(t.sleeps.at(-1)).toBe(5_000);
    // ...and that address is now trusted for the account: the attack goes on, the owner is not held back.
    const before = t.sleeps.length;
    expect((await t.attempt("198.51.100.5", OWNER, "another-guess")).statusCode).toBe(400);
    expect(t.sleeps.length).toBe(before + 1);
    expect((await t.attempt("203.0.113.7", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(t.sleeps.length).toBe(before + 1);
  });

  it("refuses one address after 10 failures on one account (429 + Retry-After), and only there", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    await t.h.login("other@example.com", "viewer");
    // The same client, written plain and IPv4-mapped, is one address.
    for (let guess = 0; guess < 10; guess++) {
      const address = guess % 2 === 0 ? "198.51.100.20" : "::ffff:198.51.100.20";
      expect((await t.attempt(address, OWNER, `guess-${guess}`)).statusCode).toBe(400);
    }
    const refused = await t.attempt("198.51.100.20", OWNER, PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: "too_many_requests", error_description: expect.any(String) });
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The same address still logs into another account, and the owner from elsewhere logs in.
    expect((await t.attempt("198.51.100.20", "other@example.com", PASSWORD)).statusCode).toBe(200);
    expect((await t.attempt("203.0.113.8", OWNER, PASSWORD)).statusCode).toBe(200);
    if (!production) {
      // The window (15 minutes from the first failure) ends on the injected clock; Redis keeps real time.
      t.clock.advance(15 * 60_000);
      expect((await t.attempt("198.51.100.20", OWNER, PASSWORD)).statusCode).toBe(200);
    }
  });

  it("refuses one address after 50 failures across accounts; an IPv6 client is its /64", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    for (let guess = 0; guess < 50; guess++) {
      const host = (guess + 1).toString(16);
      const wrong = await t.attempt(`2001:db8:0:1::${host}`, `user${guess}@example.com`, "guess");
      expect(wrong.statusCode).toBe(400);
    }
    const refused = await t.attempt("2001:db8:0:1:ffff:ffff:ffff:fffe", OWNER, PASSWORD);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect((await t.attempt("2001:db8:0:2::1", OWNER, PASSWORD)).statusCode).toBe(200);
  });

  it("a success takes back only its own count", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    for (let guess = 0; guess < 9; guess++) {
      expect((await t.attempt("198.51.100.30", OWNER, `guess-${guess}`)).statusCode).toBe(400);
    }
    expect((await t.attempt("198.51.100.30", OWNER, PASSWORD)).statusCode).toBe(200);
    expect((await t.attempt("198.51.100.30", OWNER, "guess-9")).statusCode).toBe(400);
    expect((await t.attempt("198.51.100.30", OWNER, "guess-10")).statusCode).toBe(429);
  });

  it("counts guesses in flight: of 30 at once from one address, at most 10 are checked", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.attempt("198.51.100.40", OWNER, `guess-${i}`)),
    );
    expect(answers.filter((answer) => answer.statusCode === 400).length).toBeLessThanOrEqual(10);
    expect(answers.filter((answer) => answer.statusCode === 429).length).toBeGreaterThanOrEqual(20);
    // Refused attempts checked no password and count for nothing: exactly 10 were counted.
    expect((await t.attempt("198.51.100.40", OWNER, PASSWORD)).statusCode).toBe(429);
  });
});

describe("login limits: an account under attack from many addresses is slowed down", () => {
  it("waits longer as failures across addresses grow: 250 ms doubling up to 5 s; not for a trusted address", async () => {
    const t = await limited();
    await t.h.login(OWNER, "viewer");
    expect((await t.attempt("203.0.113.50", OWNER, PASSWORD)).statusCode).toBe(200);
    for (let guess = 0; guess < 21; guess++) {
      const wrong = await t.attempt(`198.51.100.${60 + (guess % 3)}`, OWNER, `guess-${guess}`);
      expect(wrong.statusCode).toBe(400);
    }
    expect(t.sleeps).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000, 5_000, 5_000]);
    expect((await t.attempt("203.0.113.50", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(t.sleeps).toHaveLength(11);
    expect((await t.attempt("203.0.113.51", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(t.sleeps.at(-1)).toBe(5_000);
  });
});

describe("in-process login counters", () => {
  it("stay bounded, and drop expired windows", async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemoryLoginAttempts(clock, 1_000);
    for (let i = 0; i < 5_000; i++) await store.increment([`k${i}`], 60_000);
    expect(store.size).toBeLessThanOrEqual(1_000);
    expect(await store.increment(["k4999"], 60_000)).toEqual([{ count: 2, resetInMs: 60_000 }]);
    clock.advance(60_000);
    await store.increment(["fresh"], 60_000);
    expect(store.size).toBe(1);
  });
});

describe.runIf(production)("login limits shared in Redis by every API process", () => {
  it("two API processes share the counts: neither allows more than the limit", async () => {
    const prefix = `aqt-login-${randomUUID()}:`;
    const clock = new ManualClock(Date.now());
    const first = await limited({ store: await redisCounters(prefix), clock });
    const second = await limited({ store: await redisCounters(prefix), clock });
    await first.h.login(OWNER, "viewer");
    await second.h.login(OWNER, "viewer");
    for (let guess = 0; guess < 10; guess++) {
      const via = guess % 2 === 0 ? first : second;
      expect((await via.attempt("198.51.100.70", OWNER, `guess-${guess}`)).statusCode).toBe(400);
    }
    expect((await first.attempt("198.51.100.70", OWNER, "guess-10")).statusCode).toBe(429);
    expect((await second.attempt("198.51.100.70", OWNER, "guess-11")).statusCode).toBe(429);
    // The account's failures are shared too: the 11th, through either process, is held back.
    expect((await second.attempt("203.0.113.70", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(second.sleeps).toEqual([250]);
  });

  it("falls back to in-process counters while Redis is unreachable, says so once, and returns to Redis", async () => {
    const redis = new Redis(await redisUrl(), { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    cleanups.push(async () => redis.disconnect());
    const prefix = `aqt-login-${randomUUID()}:`;
    const logged: string[] = [];
    const log = {
      warn: (_: object, message: string) => logged.push(`warn ${message}`),
      info: (_: object, message: string) => logged.push(`info ${message}`),
    };
    const clock = new ManualClock(Date.now());
    const t = await limited({ store: sharedLoginAttempts(redis, clock, log, prefix), clock });
    await t.h.login(OWNER, "viewer");
    await redis.ping();
    redis.disconnect();
    for (let guess = 0; guess < 10; guess++) {
      expect((await t.attempt("198.51.100.80", OWNER, `guess-${guess}`)).statusCode).toBe(400);
      clock.advance(2_000); // Redis is tried again each time, and fails each time
    }
    expect((await t.attempt("198.51.100.80", OWNER, PASSWORD)).statusCode).toBe(429);
    expect((await t.attempt("203.0.113.80", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(logged).toEqual([expect.stringMatching(/^warn Redis unreachable/)]);

    await redis.connect();
    clock.advance(2_000);
    expect((await t.attempt("198.51.100.81", OWNER, "guess-redis")).statusCode).toBe(400);
    expect(logged).toHaveLength(2);
    expect(logged[1]).toMatch(/^info login counters back in Redis/);
    expect(await redis.keys(`${prefix}*`)).not.toHaveLength(0);
    await redis.del(...(await redis.keys(`${prefix}*`)));
  });

  it("an unreachable Redis at start-up neither refuses every login nor allows unlimited ones", async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    cleanups.push(async () => dead.disconnect());
    const warnings: string[] = [];
    const log = { warn: (_: object, message: string) => warnings.push(message), info: () => {} };
    const clock = new ManualClock(Date.now());
    const t = await limited({ store: sharedLoginAttempts(dead, clock, log, "aqt-login-dead:"), clock });
    await t.h.login(OWNER, "viewer");
    for (let guess = 0; guess < 10; guess++) {
      expect((await t.attempt("198.51.100.90", OWNER, `guess-${guess}`)).statusCode).toBe(400);
    }
    expect((await t.attempt("198.51.100.90", OWNER, "guess-10")).statusCode).toBe(429);
    expect((await t.attempt("203.0.113.90", OWNER, PASSWORD)).statusCode).toBe(200);
    expect(warnings).toHaveLength(1);
  });
});
