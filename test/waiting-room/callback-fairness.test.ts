import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INTERVALS } from "../../src/worker/loop.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { HangingReceiver, Receiver } from "../helpers/receiver.js";

let h: Harness;
let fast: Receiver;
let fastUrl: string;
beforeAll(async () => {
  fast = new Receiver();
  fastUrl = await fast.start();
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  await fast.stop();
});

type Site = Awaited<ReturnType<typeof createSite>>;

/** Joins `count` visitors and releases them all, so each has a callback due in the outbox. */
async function releaseAll(on: Harness, site: Site, prefix: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) => join(on, site.apiKey, site.queueId, `${prefix}-${i}`)),
  );
  while ((await on.store.outbox.forQueue(site.queueId)).length < count) {
    await on.room.engine.releaseDue();
    on.clock.advance(10);
  }
}

async function until(condition: () => boolean | Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

const FAST_RATE = { max_users_per_minute: 600_000 };

describe("callback fairness across applications", () => {
  it("an application whose endpoint never answers does not hold up another application's callbacks", async () => {
    const slow = new HangingReceiver();
    const slowUrl = await slow.start();
    const room = await startHarness({
      room: {
        callbackTimeoutMs: 3_000,
        callbackConcurrency: { total: 64, perApplication: 4 },
        intervals: { ...DEFAULT_INTERVALS, callbacksMs: 50 },
      },
    });
    try {
      const slowSite = await createSite(room, FAST_RATE, { callback_url: slowUrl });
      const fastSite = await createSite(room, FAST_RATE, { callback_url: fastUrl });
      // More than a whole old batch (50) for the slow site, all due before any of the fast site's.
      await releaseAll(room, slowSite, "slow", 60);
      room.clock.advance(1_000);
      fast.received.length = 0;
      // More than its own cap too: it needs several claims while the slow site's deliveries hang.
      await releaseAll(room, fastSite, "fast", 20);
      room.clock.advance(1_000);

      room.room.loop.start();
      const fastDelivered = async () =>
        (await room.store.outbox.forQueue(fastSite.queueId)).every((entry) => entry.status === "delivered");
      expect(await until(fastDelivered, 10_000)).toBe(true);
      expect(fast.received).toHaveLength(20);
      // All delivered while the slow site's first attempts still hang: none of them has timed out yet.
      const slowMeanwhile = await room.store.outbox.forQueue(slowSite.queueId);
      expect(slowMeanwhile.filter((entry) => entry.attempts > 0)).toEqual([]);

      // Stopping waits for the deliveries in flight: the hanging ones time out and are rescheduled.
      await room.room.loop.stop();
      const slowAfter = await room.store.outbox.forQueue(slowSite.queueId);
      const tried = slowAfter.filter((entry) => entry.attempts > 0);
      expect(tried).toHaveLength(4);
      for (const entry of tried) {
        expect(entry).toMatchObject({
          status: "pending",
          attempts: 1,
          last_error: "timed out after 3000 ms",
        });
        expect(Date.parse(entry.next_attempt_at)).toBeGreaterThan(room.clock.now());
      }
      expect(slowAfter.filter((entry) => entry.attempts === 0)).toHaveLength(56);
      // Never more than the per-application cap in flight to one site.
      expect(slow.maxOpen).toBe(4);
      expect(slow.requests).toBe(4);
    } finally {
      await room.close();
      await slow.stop();
    }
  }, 60_000);
});

describe("the worker loop", () => {
  it("claims again as soon as a delivery frees a slot, not at its next interval", async () => {
    const room = await startHarness({
      room: {
        callbackConcurrency: { total: 64, perApplication: 2 },
        intervals: { ...DEFAULT_INTERVALS, callbacksMs: 600_000 },
      },
    });
    try {
      const site = await createSite(room, FAST_RATE, { callback_url: fastUrl });
      await releaseAll(room, site, "woken", 12);
      room.room.loop.start();
      // The loop's own first round is ten minutes away; these two deliveries settling wake it.
      expect(await room.room.dispatcher.dispatchDue()).toBe(2);
      const delivered = async () =>
        (await room.store.outbox.forQueue(site.queueId)).every((entry) => entry.status === "delivered");
      expect(await until(delivered, 10_000)).toBe(true);
    } finally {
      await room.close();
    }
  });
});

describe("fair claims", () => {
  it("take at most the free per-application slots, oldest first, and skip applications at their cap", async () => {
    const a = await createSite(h, FAST_RATE, { callback_url: fastUrl });
    await releaseAll(h, a, "a", 10);
    h.clock.advance(1_000);
    const b = await createSite(h, FAST_RATE, { callback_url: fastUrl });
    await releaseAll(h, b, "b", 3);
    h.clock.advance(1_000);
    const at = (offset: number) => new Date(h.clock.now() + offset).toISOString();
    const oldest = async (site: Site, n: number) =>
      (await h.store.outbox.forQueue(site.queueId))
        .sort((x, y) => x.next_attempt_at.localeCompare(y.next_attempt_at) || x.id.localeCompare(y.id))
        .slice(0, n)
        .map((entry) => entry.id);

    // a has one in flight already: one more for a, two for b, though five were asked for.
    const first = await h.store.outbox.claimDue(at(0), at(60_000), 5, {
      perApplication: 2,
      inFlight: new Map([[a.appId, 1]]),
    });
    expect(first.filter((entry) => entry.application_id === a.appId).map((entry) => entry.id)).toEqual(
      await oldest(a, 1),
    );
    expect(
      first
        .filter((entry) => entry.application_id === b.appId)
        .map((entry) => entry.id)
        .sort(),
    ).toEqual((await oldest(b, 2)).sort());
    expect(first).toHaveLength(3);

    // a at its cap is left out entirely; b's last one is taken.
    const second = await h.store.outbox.claimDue(at(0), at(60_000), 10, {
      perApplication: 3,
      inFlight: new Map([[a.appId, 3]]),
    });
    expect(second.map((entry) => entry.application_id)).toEqual([b.appId]);

    // The total limit holds, and the applications share it.
    const third = await h.store.outbox.claimDue(at(0), at(60_000), 4, {
      perApplication: 8,
      inFlight: new Map(),
    });
    expect(third.map((entry) => entry.application_id)).toEqual([a.appId, a.appId, a.appId, a.appId]);
  });

  it("never hand the same entry to two claimers at once", async () => {
    const sites = [
      await createSite(h, FAST_RATE, { callback_url: fastUrl }),
      await createSite(h, FAST_RATE, { callback_url: fastUrl }),
      await createSite(h, FAST_RATE, { callback_url: fastUrl }),
    ];
    for (const [i, site] of sites.entries()) await releaseAll(h, site, `c${i}`, 20);
    h.clock.advance(1_000);
    const now = new Date(h.clock.now()).toISOString();
    const leases = [1, 2, 3, 4, 5, 6].map((n) => new Date(h.clock.now() + 60_000 + n).toISOString());
    // Concurrent claims (separate connections in PostgreSQL) over the same due entries.
    const claims = await Promise.all(
      leases.map((lease) =>
        h.store.outbox.claimDue(now, lease, 15, { perApplication: 5, inFlight: new Map() }),
      ),
    );
    const ids = claims.flat().map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(0);
    // Each claimer holds what it was given, under its own lease.
    const rows = await h.store.db.selectFrom("callback_outbox").select(["id", "locked_until"]).execute();
    const lockedBy = new Map(rows.map((row) => [row.id, row.locked_until]));
    for (const [i, claim] of claims.entries()) {
      for (const entry of claim) {
        expect(lockedBy.get(entry.id)).toBe(leases[i]);
      }
    }
  });
});
