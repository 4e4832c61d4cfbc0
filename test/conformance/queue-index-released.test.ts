import { describe, expect, it } from "vitest";
import { describeEachAdapter, T0, TOKEN } from "./queue-index-adapters.js";

/** QueueIndex conformance, released tickets: tokens, first sightings, unseen releases, pruning. */
describeEachAdapter(({ index, queue }) => {
  describe("released tickets", () => {
    it("gives the token, and firstSeen only on the first sighting by poll", async () => {
      const q = await queue();
      await index.addWaiting(q, [1, 2], T0);
      await index.markReleased(q, [{ seq: 1, accessToken: TOKEN, releasedAt: T0 + 5 }], T0 + 5);
      expect(await index.poll(q, 1, T0 + 10)).toEqual({
        state: "released",
        accessToken: TOKEN,
        releasedAt: T0 + 5,
        firstSeen: true,
        size: 1,
      });
      expect(await index.poll(q, 1, T0 + 20)).toMatchObject({ state: "released", firstSeen: false });
      expect(await index.markSeen(q, 1, T0 + 30)).toBe(false);
    });

    it("records the first sighting by markSeen too", async () => {
      const q = await queue();
      await index.markReleased(q, [{ seq: 3, accessToken: "", releasedAt: T0 }], T0);
      expect(await index.markSeen(q, 3, T0 + 1)).toBe(true);
      expect(await index.markSeen(q, 3, T0 + 2)).toBe(false);
      expect(await index.poll(q, 3, T0 + 3)).toEqual({
        state: "released",
        accessToken: "",
        releasedAt: T0,
        firstSeen: false,
        size: 0,
      });
      expect(await index.markSeen(q, 4, T0)).toBe(false);
    });

    it("takes an already-seen release from a rebuild as seen", async () => {
      const q = await queue();
      await index.markReleased(q, [{ seq: 5, accessToken: TOKEN, releasedAt: T0, seenAt: T0 + 1 }], T0);
      expect(await index.poll(q, 5, T0 + 2)).toMatchObject({ state: "released", firstSeen: false });
      expect(await index.markSeen(q, 5, T0 + 3)).toBe(false);
      expect(await index.unseen(q, T0 + 10, 10)).toEqual([]);
    });

    it("lists releases never seen, released before the cutoff", async () => {
      const q = await queue();
      await index.markReleased(
        q,
        [100, 200, 300, 400].map((at, i) => ({ seq: i + 1, accessToken: TOKEN, releasedAt: T0 + at })),
        T0,
      );
      await index.poll(q, 2, T0 + 500);
      await index.markSeen(q, 4, T0 + 500);
      expect((await index.unseen(q, T0 + 1000, 10)).sort((a, b) => a - b)).toEqual([1, 3]);
      expect(await index.unseen(q, T0 + 300, 10)).toEqual([1]);
      expect(await index.unseen(q, T0 + 1000, 1)).toHaveLength(1);
      expect(await index.unseen(q, T0 + 1000, 0)).toEqual([]);
    });

    it("ending a released ticket forgets the release", async () => {
      const q = await queue();
      await index.markReleased(q, [{ seq: 1, accessToken: TOKEN, releasedAt: T0 }], T0);
      await index.end(q, [1], "expired", T0 + 1);
      expect(await index.poll(q, 1, T0 + 2)).toEqual({ state: "expired", size: 0 });
      expect(await index.unseen(q, T0 + 10, 10)).toEqual([]);
      expect(await index.markSeen(q, 1, T0 + 3)).toBe(false);
    });
  });

  it("lists unseen releases in release order, never the seen ones", async () => {
    const q = await queue();
    // Release order is not seq order here (several queues' visitors, or a repaired release).
    await index.markReleased(q, [{ seq: 7, accessToken: TOKEN, releasedAt: T0 + 100 }], T0 + 100);
    await index.markReleased(
      q,
      [
        { seq: 3, accessToken: TOKEN, releasedAt: T0 + 200 },
        { seq: 9, accessToken: TOKEN, releasedAt: T0 + 300 },
      ],
      T0 + 300,
    );
    await index.markReleased(
      q,
      [
        { seq: 1, accessToken: TOKEN, releasedAt: T0 + 400 },
        { seq: 5, accessToken: TOKEN, releasedAt: T0 + 500 },
      ],
      T0 + 500,
    );
    await index.poll(q, 9, T0 + 600);
    await index.markSeen(q, 1, T0 + 600);
    expect(await index.unseen(q, T0 + 1000, 10)).toEqual([7, 3, 5]);
    expect(await index.unseen(q, T0 + 1000, 2)).toEqual([7, 3]);
    expect(await index.unseen(q, T0 + 500, 10)).toEqual([7, 3]);
    expect(await index.unseen(q, T0 + 100, 10)).toEqual([]);
    await index.markSeen(q, 7, T0 + 700);
    expect(await index.unseen(q, T0 + 1000, 10)).toEqual([3, 5]);
  });

  it("prunes released and ended entries older than the cutoff", async () => {
    const q = await queue();
    await index.markReleased(
      q,
      [
        { seq: 1, accessToken: TOKEN, releasedAt: T0 + 100 },
        { seq: 2, accessToken: TOKEN, releasedAt: T0 + 200 },
      ],
      T0,
    );
    await index.end(q, [3], "cancelled", T0 + 150);
    await index.end(q, [4], "expired", T0 + 250);
    await index.addWaiting(q, [5], T0);
    await index.prune(q, T0 + 200, T0 + 200);
    expect(await index.poll(q, 1, T0 + 300)).toEqual({ state: "unknown", size: 1 });
    expect(await index.poll(q, 3, T0 + 300)).toEqual({ state: "unknown", size: 1 });
    expect(await index.poll(q, 4, T0 + 300)).toEqual({ state: "expired", size: 1 });
    expect(await index.unseen(q, T0 + 1000, 10)).toEqual([2]);
    expect(await index.markSeen(q, 1, T0 + 300)).toBe(false);
    // Released at exactly the cutoff stays, still unseen.
    expect(await index.poll(q, 2, T0 + 300)).toMatchObject({ state: "released", firstSeen: true });
    expect(await index.waitingCount(q)).toBe(1);
  });
});
