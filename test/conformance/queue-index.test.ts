import { describe, expect, it } from "vitest";
import type { QueueMeta } from "../../src/index/types.js";
import { describeEachAdapter, SECOND, T0, TOKEN } from "./queue-index-adapters.js";

/** QueueIndex conformance, the waiting line: ranks, joins, seq limits, heartbeats, paging, meta, drop. */
describeEachAdapter(({ index, queue, rank }) => {
  it("ranks waiting tickets and counts the line as tickets join, end and are released", async () => {
    const q = await queue();
    await index.addWaiting(q, [1, 2, 3, 4, 5], T0);
    expect(await index.poll(q, 3, T0)).toEqual({ state: "waiting", rank: 2, size: 5, meta: undefined });
    await index.end(q, [2], "cancelled", T0);
    expect(await rank(q, 3)).toBe(1);
    expect(await index.poll(q, 2, T0)).toEqual({ state: "cancelled", size: 4 });
    await index.markReleased(q, [{ seq: 1, accessToken: TOKEN, releasedAt: T0 }], T0);
    expect(await rank(q, 3)).toBe(0);
    expect(await rank(q, 5)).toBe(2);
    expect(await index.waitingCount(q)).toBe(3);
    await index.end(q, [4, 5], "expired", T0);
    expect(await index.poll(q, 5, T0)).toEqual({ state: "expired", size: 1 });
    expect(await index.poll(q, 99, T0)).toEqual({ state: "unknown", size: 1 });
  });

  it("answers unknown with size 0 for a queue it has never seen", async () => {
    expect(await index.poll(await queue(), 1, T0)).toEqual({ state: "unknown", size: 0 });
    expect(await index.waitingCount(await queue())).toBe(0);
  });

  it("orders tickets by seq whatever order they join in, and ignores a second join", async () => {
    const q = await queue();
    await index.addWaiting(q, [10, 3, 7], T0);
    await index.addWaiting(q, [5, 1, 7], T0);
    expect(await index.waitingCount(q)).toBe(5);
    const ranks = await Promise.all([1, 3, 5, 7, 10].map((seq) => rank(q, seq)));
    expect(ranks).toEqual([0, 1, 2, 3, 4]);
  });

  it("adds a batch of 500 in one call", async () => {
    const q = await queue();
    await index.addWaiting(
      q,
      Array.from({ length: 500 }, (_, i) => 1000 + i),
      T0,
    );
    expect(await index.waitingCount(q)).toBe(500);
    expect(await rank(q, 1499)).toBe(499);
    expect(await index.waitingPage(q, 1497, 10)).toEqual([1498, 1499]);
  });

  it("takes batches larger than a script's internal chunks (rebuild pages, expiry sweeps)", async () => {
    const q = await queue();
    const seqs = Array.from({ length: 2500 }, (_, i) => i + 1);
    await index.addWaiting(q, seqs.slice(0, 1200), T0);
    await index.addWaiting(q, seqs, T0 + SECOND);
    expect(await index.waitingCount(q)).toBe(2500);
    expect(await index.abandoned(q, T0 + SECOND, 5000)).toEqual(seqs.slice(0, 1200));
    await index.end(q, seqs.slice(0, 1100), "expired", T0);
    const released = seqs.slice(1100, 2300).map((seq) => ({ seq, accessToken: TOKEN, releasedAt: T0 + seq }));
    await index.markReleased(q, released, T0);
    expect(await index.waitingCount(q)).toBe(200);
    expect(await rank(q, 2301)).toBe(0);
    expect(await index.unseen(q, T0 + 5000, 5000)).toHaveLength(1200);
    await index.prune(q, T0 + 5000, T0 + 5000);
    expect(await index.unseen(q, T0 + 5000, 5000)).toEqual([]);
    expect(await index.poll(q, 1, T0)).toEqual({ state: "unknown", size: 200 });
    expect(await index.poll(q, 2000, T0)).toEqual({ state: "unknown", size: 200 });
  });

  it("refuses seqs outside [1, 2^40]", async () => {
    const q = await queue();
    await expect(index.addWaiting(q, [0], T0)).rejects.toThrow(RangeError);
    await expect(index.addWaiting(q, [2 ** 40 + 1], T0)).rejects.toThrow(RangeError);
    await expect(index.addWaiting(q, [1.5], T0)).rejects.toThrow(RangeError);
  });

  it("refuses a join whose heartbeat (whole seconds) is not a uint32", async () => {
    const q = await queue();
    await expect(index.addWaiting(q, [1], -SECOND)).rejects.toThrow(RangeError);
    await expect(index.addWaiting(q, [1], 2 ** 32 * SECOND)).rejects.toThrow(RangeError);
    await expect(index.addWaiting(q, [1], Number.NaN)).rejects.toThrow(RangeError);
    expect(await index.waitingCount(q)).toBe(0);
  });

  it("handles seqs near 2^40 exactly", async () => {
    const q = await queue();
    const top = 2 ** 40;
    await index.addWaiting(q, [top, top - 1, 7], T0);
    expect(await rank(q, top)).toBe(2);
    expect(await rank(q, top - 1)).toBe(1);
    expect(await index.waitingPage(q, 7, 10)).toEqual([top - 1, top]);
    expect(await index.abandoned(q, T0 + SECOND, 10)).toEqual([7, top - 1, top]);
    await index.markReleased(q, [{ seq: top, accessToken: TOKEN, releasedAt: T0 }], T0);
    expect(await index.poll(q, top, T0)).toMatchObject({ state: "released", firstSeen: true });
    expect(await index.unseen(q, T0 + 1, 10)).toEqual([]);
    await index.end(q, [top - 1], "expired", T0);
    expect(await index.poll(q, top - 1, T0)).toEqual({ state: "expired", size: 1 });
  });

  describe("heartbeats and abandoned", () => {
    it("lists tickets silent since before the cutoff, smallest seq first", async () => {
      const q = await queue();
      // Heartbeats deliberately out of seq order: 5 and 4 join later but 9 is the most recent.
      await index.addWaiting(q, [9], T0 + 30 * SECOND);
      await index.addWaiting(q, [5, 2], T0);
      await index.addWaiting(q, [4, 1], T0 + 10 * SECOND);
      await index.poll(q, 1, T0 + 60 * SECOND);
      expect(await index.abandoned(q, T0 + 20 * SECOND, 10)).toEqual([2, 4, 5]);
      expect(await index.abandoned(q, T0 + 20 * SECOND, 2)).toEqual([2, 4]);
      expect(await index.abandoned(q, T0 + 40 * SECOND, 10)).toEqual([2, 4, 5, 9]);
      // The cutoff is exclusive.
      expect(await index.abandoned(q, T0 + 10 * SECOND, 10)).toEqual([2, 5]);
      expect(await index.abandoned(q, T0, 10)).toEqual([]);
      expect(await index.abandoned(q, T0 + 20 * SECOND, 0)).toEqual([]);
    });

    it("counts only waiting tickets, and a poll is a heartbeat", async () => {
      const q = await queue();
      await index.addWaiting(q, [1, 2, 3], T0);
      await index.markReleased(q, [{ seq: 2, accessToken: TOKEN, releasedAt: T0 }], T0);
      await index.end(q, [3], "cancelled", T0);
      expect(await index.abandoned(q, T0 + 5 * SECOND, 10)).toEqual([1]);
      await index.poll(q, 1, T0 + 10 * SECOND);
      expect(await index.abandoned(q, T0 + 5 * SECOND, 10)).toEqual([]);
      expect(await index.abandoned(q, T0 + 11 * SECOND, 10)).toEqual([1]);
    });
  });

  describe("addWaiting", () => {
    it("skips tickets known to have ended or been released, and keeps existing heartbeats", async () => {
      const q = await queue();
      await index.addWaiting(q, [1, 2, 3], T0);
      await index.end(q, [2], "cancelled", T0);
      await index.markReleased(q, [{ seq: 3, accessToken: TOKEN, releasedAt: T0 }], T0);
      await index.addWaiting(q, [1, 2, 3, 4], T0 + 100 * SECOND);
      expect(await index.waitingCount(q)).toBe(2);
      expect(await index.waitingPage(q, 0, 10)).toEqual([1, 4]);
      expect(await index.poll(q, 2, T0 + 100 * SECOND)).toMatchObject({ state: "cancelled" });
      expect(await index.poll(q, 3, T0 + 100 * SECOND)).toMatchObject({ state: "released" });
      expect(await index.abandoned(q, T0 + 50 * SECOND, 10)).toEqual([1]);
      expect(await index.abandoned(q, T0 + 101 * SECOND, 10)).toEqual([1, 4]);
    });

    it("after a reset, starts from nothing", async () => {
      const q = await queue();
      await index.setMeta(q, {
        configuredPerMinute: 60,
        measuredPerMinute: undefined,
        abandonAfterSeconds: 30,
      });
      await index.addWaiting(q, [1, 2], T0);
      await index.end(q, [2], "cancelled", T0);
      await index.reset(q);
      expect(await index.waitingCount(q)).toBe(0);
      await index.addWaiting(q, [2, 3], T0);
      await index.markLoaded(q);
      expect(await index.poll(q, 2, T0)).toEqual({ state: "waiting", rank: 0, size: 2, meta: undefined });
    });
  });

  it("pages through the line", async () => {
    const q = await queue();
    const seqs = [...Array.from({ length: 22 }, (_, i) => i + 1), 40, 41, 90];
    await index.addWaiting(q, seqs, T0);
    expect(await index.waitingPage(q, 0, 10)).toEqual(seqs.slice(0, 10));
    expect(await index.waitingPage(q, 10, 10)).toEqual(seqs.slice(10, 20));
    expect(await index.waitingPage(q, 20, 10)).toEqual([21, 22, 40, 41, 90]);
    expect(await index.waitingPage(q, 22, 2)).toEqual([40, 41]);
    expect(await index.waitingPage(q, 90, 10)).toEqual([]);
    expect(await index.waitingPage(q, 0, 0)).toEqual([]);
    expect(await index.waitingPage(await queue(), 0, 10)).toEqual([]);
  });

  it("round-trips the queue's meta, an unknown measured rate included", async () => {
    const q = await queue();
    await index.addWaiting(q, [1], T0);
    const first: QueueMeta = {
      configuredPerMinute: 37.5,
      measuredPerMinute: undefined,
      abandonAfterSeconds: 45,
    };
    await index.setMeta(q, first);
    expect(await index.poll(q, 1, T0)).toMatchObject({ state: "waiting", meta: first });
    const second: QueueMeta = {
      configuredPerMinute: 600,
      measuredPerMinute: 123.456,
      abandonAfterSeconds: 0,
    };
    await index.setMeta(q, second);
    expect(await index.poll(q, 1, T0)).toMatchObject({ meta: second });
    await index.setMeta(q, first);
    const ticket = await index.poll(q, 1, T0);
    expect(ticket.state === "waiting" ? ticket.meta : undefined).toStrictEqual(first);
  });

  it("drop forgets the queue entirely", async () => {
    const q = await queue();
    await index.setMeta(q, { configuredPerMinute: 60, measuredPerMinute: 30, abandonAfterSeconds: 30 });
    await index.addWaiting(q, [1, 2], T0);
    await index.markReleased(q, [{ seq: 3, accessToken: TOKEN, releasedAt: T0 }], T0);
    await index.end(q, [4], "cancelled", T0);
    await index.drop(q);
    expect(await index.waitingCount(q)).toBe(0);
    for (const seq of [1, 3, 4]) expect(await index.poll(q, seq, T0)).toEqual({ state: "unknown", size: 0 });
    expect(await index.abandoned(q, T0 + 100 * SECOND, 10)).toEqual([]);
    expect(await index.unseen(q, T0 + 100 * SECOND, 10)).toEqual([]);
    expect(await index.waitingPage(q, 0, 10)).toEqual([]);
  });
});
