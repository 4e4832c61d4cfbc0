import { describe, expect, it } from "vitest";
import { describeEachAdapter, SECOND, T0, TOKEN } from "./queue-index-adapters.js";

/** QueueIndex conformance, ended tickets: their latest state, their own retention, the cap per queue. */
describeEachAdapter(({ index, make, queue }) => {
  it("keeps the latest terminal state; the entry's retention runs from when it first ended", async () => {
    const q = await queue();
    await index.addWaiting(q, [1], T0);
    await index.end(q, [1], "cancelled", T0);
    await index.end(q, [1], "expired", T0 + 10 * SECOND);
    expect(await index.poll(q, 1, T0 + 20 * SECOND)).toEqual({ state: "expired", size: 0 });
    await index.prune(q, T0, T0 + 5 * SECOND);
    expect(await index.poll(q, 1, T0 + 20 * SECOND)).toEqual({ state: "unknown", size: 0 });
  });

  describe("ended tickets", () => {
    it("are forgotten after their own retention, released ones after theirs", async () => {
      const q = await queue();
      await index.addWaiting(q, [1, 2, 3, 4], T0);
      await index.markReleased(q, [{ seq: 1, accessToken: TOKEN, releasedAt: T0 }], T0);
      await index.end(q, [2], "cancelled", T0);
      await index.end(q, [3], "expired", T0 + 10 * SECOND);
      // Released entries from T0 on are kept; ended ones only from T0 + 5 s on.
      await index.prune(q, T0, T0 + 5 * SECOND);
      const later = T0 + 20 * SECOND;
      expect(await index.poll(q, 2, later)).toEqual({ state: "unknown", size: 1 });
      expect(await index.poll(q, 3, later)).toEqual({ state: "expired", size: 1 });
      expect(await index.unseen(q, later, 10)).toEqual([1]);
      await index.prune(q, T0, T0 + 11 * SECOND);
      expect(await index.poll(q, 3, later)).toEqual({ state: "unknown", size: 1 });
      // A forgotten ended ticket is simply unknown: not re-added by a late add, the record answers.
      expect(await index.poll(q, 1, later)).toMatchObject({ state: "released", firstSeen: true });
      expect(await index.poll(q, 4, later)).toMatchObject({ state: "waiting", rank: 0 });
      expect(await index.waitingCount(q)).toBe(1);
    });

    it("are held up to a cap per queue, cancelled and expired together, the oldest dropped first", async () => {
      const capped = make({ endedCap: 4 });
      const q = await queue();
      await capped.markLoaded(q);
      const state = async (seq: number) => (await capped.poll(q, seq, T0 + SECOND)).state;
      await capped.addWaiting(q, [1, 2, 3, 4, 5, 6, 7, 8, 20], T0);
      await capped.end(q, [1], "cancelled", T0);
      await capped.end(q, [2], "expired", T0 + 1);
      await capped.end(q, [3, 4], "cancelled", T0 + 2);
      expect(await Promise.all([1, 2, 3, 4].map(state))).toEqual([
        "cancelled",
        "expired",
        "cancelled",
        "cancelled",
      ]);
      await capped.end(q, [5], "expired", T0 + 3);
      expect(await Promise.all([1, 2, 5].map(state))).toEqual(["unknown", "expired", "expired"]);
      // Ending one already held changes its state but does not make it younger or count twice.
      await capped.end(q, [2], "cancelled", T0 + 4);
      await capped.end(q, [6, 7], "cancelled", T0 + 5);
      expect(await Promise.all([2, 3, 4, 5, 6, 7].map(state))).toEqual([
        "unknown",
        "unknown",
        "cancelled",
        "expired",
        "cancelled",
        "cancelled",
      ]);
      // A batch larger than the cap: the queue holds exactly `cap` of it.
      const batch = [8, 9, 10, 11, 12, 13];
      await capped.end(q, batch, "expired", T0 + 6);
      const states = await Promise.all([4, 5, 6, 7, ...batch].map(state));
      expect(states.slice(0, 4)).toEqual(["unknown", "unknown", "unknown", "unknown"]);
      expect(states.filter((s) => s === "expired")).toHaveLength(4);
      expect(states.filter((s) => s === "unknown")).toHaveLength(6);
      expect(await capped.waitingCount(q)).toBe(1);
      expect(await state(20)).toBe("waiting");
      await capped.reset(q);
    });
  });
});
