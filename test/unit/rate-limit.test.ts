import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { clientKey } from "../../src/domain/client-address.js";
import { ManualClock } from "../../src/domain/clock.js";
import { DEFAULT_RATE_LIMITS, RateLimits } from "../../src/domain/rate-limit.js";
import { RateLimiter, type SharedCounts } from "../../src/domain/rate-limiter.js";

const START = Date.UTC(2026, 0, 1); // a window boundary for every window length used here

function limiter(limit: number, windowMs = 1_000, maxKeys?: number) {
  const clock = new ManualClock(START);
  const rule = { name: "test", limit, windowMs, ...(maxKeys === undefined ? {} : { maxKeys }) };
  return { clock, limiter: new RateLimiter(rule, clock) };
}

function admitted(l: RateLimiter, key: string, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (l.take(key) === 0) count += 1;
  return count;
}

describe("sliding-window limiter", () => {
  it("admits the limit in a window and refuses the rest, with the seconds to wait", () => {
    const { limiter: l } = limiter(10);
    expect(admitted(l, "a", 10)).toBe(10);
    expect(l.take("a")).toBeGreaterThanOrEqual(1);
    expect(admitted(l, "b", 10)).toBe(10); // keys are independent
  });

  it("weighs the previous window by how much of it still overlaps", () => {
    const { clock, limiter: l } = limiter(10);
    expect(admitted(l, "a", 10)).toBe(10);
    clock.advance(1_000); // next window: the previous one still weighs fully
    expect(l.take("a")).toBeGreaterThan(0);
    clock.advance(500); // half of it overlaps: 5 of 10
    expect(admitted(l, "a", 10)).toBe(5);
    clock.advance(2_000); // a gap of a whole window: nothing carries over
    expect(admitted(l, "a", 20)).toBe(10);
  });

  it("tells a refused client to wait until its estimate falls below the limit", () => {
    const { clock, limiter: l } = limiter(100, 10_000);
    clock.advance(2_000);
    admitted(l, "a", 100);
    const wait = l.take("a");
    // 8 s left of this window, then 0 s of fading (100 × (1 - t/W) < 100 at once): 8 s.
    expect(wait).toBe(8);
    clock.advance(wait * 1_000 + 1);
    expect(l.take("a")).toBe(0);
  });

  it("a steady poller (one a second) is never limited at the lowest status setting", () => {
    const clock = new ManualClock(START + 123);
    const limits = new RateLimits({ ...DEFAULT_RATE_LIMITS, statusPerSecond: 5 }, clock);
    for (let second = 0; second < 3_600; second++) {
      expect(limits.status.take("198.51.100.1")).toBe(0);
      clock.advance(1_000 + (second % 3 === 0 ? 7 : -3));
    }
  });

  it("check() says what take() would, without counting", () => {
    const { limiter: l } = limiter(2);
    expect(l.check("a")).toBe(0);
    expect(l.check("a")).toBe(0);
    l.take("a");
    l.take("a");
    expect(l.check("a")).toBeGreaterThan(0);
    expect(l.check("b")).toBe(0);
  });

  it("takes a per-call limit (an application's own), and 0 means no limit", () => {
    const { limiter: l } = limiter(2);
    expect(admitted(l, "a", 5)).toBe(2);
    expect(admitted(l, "b", 5)).toBe(2);
    let n = 0;
    for (let i = 0; i < 10; i++) if (l.take("c", 7) === 0) n += 1;
    expect(n).toBe(7);
    for (let i = 0; i < 100; i++) expect(l.take("d", 0)).toBe(0);
  });

  it("does not count new keys beyond its size in a window (fail open), and starts afresh at the next", () => {
    const { clock, limiter: l } = limiter(1, 1_000, 3);
    for (const key of ["a", "b", "c"]) expect(l.take(key)).toBe(0);
    expect(admitted(l, "d", 5)).toBe(5); // untracked
    expect(l.take("a")).toBeGreaterThan(0); // tracked ones still count
    clock.advance(1_000);
    expect(admitted(l, "d", 5)).toBe(1);
  });

  it("with a shared store that fails, limits on its own counts (fail open to local)", async () => {
    const clock = new ManualClock(START);
    const down: SharedCounts = { add: () => Promise.reject(new Error("connection refused")) };
    const l = new RateLimiter({ name: "t", limit: 40, windowMs: 1_000 }, clock, down);
    let n = 0;
    for (let i = 0; i < 60; i++) {
      if (l.take("a") === 0) n += 1;
      await l.sync();
    }
    expect(n).toBe(40);
    expect(l.failing).toBe(true);
  });

  it("refuses nothing for a store that failed, and shares again once a push succeeds", async () => {
    // The store's behaviour lives in Redis (see test/production); here only whether it answers matters.
    const clock = new ManualClock(START);
    const counters = new Map<string, number>();
    let up = false;
    const store: SharedCounts = {
      add: async (increments) => {
        if (!up) throw new Error("connection refused");
        return increments.map(({ key, delta }) => {
          counters.set(key, (counters.get(key) ?? 0) + delta);
          return counters.get(key) ?? 0;
        });
      },
    };
    const rule = { name: "t", limit: 1_000, windowMs: 60_000 }; // cap 125, pushes from 63
    const l = new RateLimiter(rule, clock, store);
    for (let i = 0; i < 70; i++) expect(l.take("a")).toBe(0);
    await l.sync(); // the first push fails
    expect(l.failing).toBe(true);
    for (let i = 0; i < 230; i++) expect(l.take("a")).toBe(0); // far past the cap: never refused for it
    clock.advance(5_000); // the retry delay is over, the store still down
    expect(l.take("a")).toBe(0);
    await l.sync();
    expect(l.failing).toBe(true);
    up = true;
    await l.sync(); // too soon: waits out the retry delay
    expect(l.failing).toBe(true);
    clock.advance(5_000);
    await l.sync();
    expect(l.failing).toBe(false);
    expect([...counters.values()]).toEqual([301]); // the backlog, pushed at once
    counters.set([...counters.keys()][0] ?? "", 990); // other processes' share
    expect(l.take("a")).toBe(0);
    await l.sync();
    expect(admitted(l, "a", 20)).toBe(9); // 991 + 9 = the limit
  });
});

describe("client address keys", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["2001:DB8:a:b::", "2001:db8:a:b::/64"],
  ])("%s → %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe("rate-limit configuration", () => {
  it("defaults, and 0 turns a limit off", () => {
    expect(parseConfig({}).rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    expect(
      parseConfig({ RATE_LIMIT_JOINS_PER_SECOND: "0", RATE_LIMIT_STATUS_PER_SECOND: "1000000" }).rateLimits,
    ).toMatchObject({ joinsPerSecond: 0, statusPerSecond: 1_000_000 });
  });

  it("refuses values out of range, naming the variable", () => {
    for (const [name, value] of [
      ["RATE_LIMIT_STATUS_PER_SECOND", "2"],
      ["RATE_LIMIT_JOINS_PER_SECOND", "-1"],
      ["RATE_LIMIT_CANCELS_PER_SECOND", "1.5"],
      ["RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND", "lots"],
      ["RATE_LIMIT_ADMIN_PER_SECOND", "1000001"],
      ["RATE_LIMIT_KEY_FAILURES_PER_MINUTE", "x"],
      ["RATE_LIMIT_PAGE_JOINS_PER_SECOND", "-2"],
    ] as const) {
      expect(() => parseConfig({ [name]: value }), name).toThrow(name);
    }
  });
});
