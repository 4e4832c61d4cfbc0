import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness, status } from "../helpers/harness.js";
import { joinMany, releasedIn } from "../helpers/releases.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("release rate", () => {
  it("keeps the configured rate with a worker that wakes late or stalls: never more than rate + 1 in any 60 s, within 1% over 10 minutes", async () => {
    // A harness of its own, so other tests' queues do not add work to each of the ~4000 ticks.
    const outer = h;
    h = await startHarness();
    try {
      await checkRate();
    } finally {
      await h.close();
      h = outer;
    }
  }, 180_000); // ~3,000 release rounds, each a real transaction (PostgreSQL is the slower of the two)

  async function checkRate(): Promise<void> {
    const rate = 120;
    const site = await createSite(h, { max_users_per_minute: rate });
    await joinMany(h, site.apiKey, site.queueId, "rate", rate * 10 + 60);
    const start = h.clock.now();
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    let stalls = 0;
    while (h.clock.now() < start + 600_000) {
      await h.room.engine.releaseDue();
      // Ticks 20-250 ms apart, like the loop's, and now and then a worker stalled for 1-3 s.
      const stalled = random() < 0.005;
      if (stalled) stalls++;
      h.clock.advance(stalled ? 1_000 + Math.floor(random() * 2_000) : 20 + Math.floor(random() * 230));
    }
    await h.room.engine.releaseDue(); // the last stall made up
    expect(stalls).toBeGreaterThan(5);
    const times = (await releasedIn(h, site.queueId)).map((row) => Date.parse(row.released_at ?? ""));
    let worst = 0;
    for (let lo = 0, hi = 0; hi < times.length; hi++) {
      while ((times[hi] ?? 0) - (times[lo] ?? 0) >= 60_000) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
    expect(worst).toBeLessThanOrEqual(rate + 1);
    expect(Math.abs(times.length - rate * 10)).toBeLessThanOrEqual(rate * 10 * 0.01);
  }

  it("makes up at once the releases a stalled worker missed, but gives a queue that was idle no burst", async () => {
    const site = await createSite(h, { max_users_per_minute: 120 });
    await joinMany(h, site.apiKey, site.queueId, "stall", 40);
    await h.room.engine.releaseDue();
    h.clock.advance(500);
    await h.room.engine.releaseDue();
    expect(await releasedIn(h, site.queueId)).toHaveLength(2);
    // The worker wakes 5 s late: the ten slots since are released together.
    h.clock.advance(5_000);
    await h.room.engine.releaseDue();
    const afterStall = await releasedIn(h, site.queueId);
    expect(afterStall).toHaveLength(12);
    expect(afterStall.filter((row) => row.released_at === afterStall.at(-1)?.released_at)).toHaveLength(10);

    // Drain the queue, leave it idle for 30 s, then a crowd arrives: one at a time, at the rate.
    for (let i = 0; i < 60 && (await releasedIn(h, site.queueId)).length < 40; i++) {
      h.clock.advance(500);
      await h.room.engine.releaseDue();
    }
    expect(await releasedIn(h, site.queueId)).toHaveLength(40);
    h.clock.advance(30_000);
    await h.room.engine.releaseDue();
    await joinMany(h, site.apiKey, site.queueId, "crowd", 20);
    await h.room.engine.releaseDue();
    expect(await releasedIn(h, site.queueId)).toHaveLength(41);
    h.clock.advance(500);
    await h.room.engine.releaseDue();
    expect(await releasedIn(h, site.queueId)).toHaveLength(42);
  });

  it("estimates the wait from the measured rate, not only the configured one", async () => {
    // The queue allows 120 a minute, but its application's shared intake lets only 30 a minute through.
    const site = await createSite(h, { max_users_per_minute: 120 }, { max_users_per_minute: 30 });
    const visitors = await joinMany(h, site.apiKey, site.queueId, "eta", 199);
    visitors.push(await join(h, site.apiKey, site.queueId, "eta-last")); // surely last in line
    for (let elapsed = 0; elapsed < 120_000; elapsed += 250) {
      await h.room.engine.releaseDue();
      h.clock.advance(250);
    }
    const last = visitors.at(-1);
    if (last === undefined) throw new Error("no visitor");
    const body = await status(h, last.token);
    const position = body.position ?? 0;
    expect(position).toBe(200 - 60);
    // At the measured 30 a minute, not the queue's 120: about two seconds a place.
    expect(body.estimated_wait_seconds).toBeGreaterThan(position * 1.8);
    expect(body.estimated_wait_seconds).toBeLessThan(position * 2.2);
  });
});
