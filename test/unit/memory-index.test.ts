import { describe, expect, it } from "vitest";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";

/**
 * What the in-process index does beyond the shared conformance suite: its expiry scans look only at what
 * is due. Released entries are held in the order they were marked released (release order in practice),
 * so pruning and the unseen scan walk from the oldest and stop at the first entry still young.
 */
const T0 = 1_700_000_000_000;
const Q = "queue";

const release = (seq: number, releasedAt: number) => ({ seq, accessToken: "t", releasedAt });

describe("MemoryQueueIndex upkeep", () => {
  it("prune stops at the first released entry still young", async () => {
    const index = new MemoryQueueIndex();
    // Marked out of release order (a repaired release): it waits behind the younger one.
    await index.markReleased(Q, [release(1, T0 + 200), release(2, T0 + 100), release(3, T0 + 300)]);
    await index.prune(Q, T0 + 150, T0);
    expect((await index.heldCounts(Q)).released).toBe(3);
    await index.prune(Q, T0 + 250, T0);
    expect((await index.heldCounts(Q)).released).toBe(1);
    expect(await index.poll(Q, 3, T0 + 400)).toMatchObject({ state: "released" });
  });

  it("unseen walks only unseen entries, from the oldest release, stopping at the first young one", async () => {
    const index = new MemoryQueueIndex();
    await index.markReleased(Q, [release(1, T0 + 100), release(2, T0 + 200), release(3, T0 + 300)]);
    await index.markReleased(Q, [release(4, T0 + 50)]); // out of order: behind 3
    await index.poll(Q, 2, T0 + 400);
    expect(await index.heldCounts(Q)).toEqual({ waiting: 0, released: 4, unseen: 3, ended: 0 });
    expect(await index.unseen(Q, T0 + 150, 10)).toEqual([1]);
    expect(await index.unseen(Q, T0 + 1000, 10)).toEqual([1, 3, 4]);
    await index.markSeen(Q, 3, T0 + 400);
    expect(await index.unseen(Q, T0 + 150, 10)).toEqual([1, 4]);
    await index.end(Q, [1], "expired", T0 + 1000);
    expect(await index.heldCounts(Q)).toEqual({ waiting: 0, released: 3, unseen: 1, ended: 1 });
  });

  it("a released entry marked again moves to the back, unseen again if it comes without a sighting", async () => {
    const index = new MemoryQueueIndex();
    await index.markReleased(Q, [release(1, T0 + 100), release(2, T0 + 200)]);
    await index.markSeen(Q, 1, T0 + 300);
    await index.markReleased(Q, [release(1, T0 + 400)]);
    expect(await index.unseen(Q, T0 + 1000, 10)).toEqual([2, 1]);
    await index.prune(Q, T0 + 300, T0);
    expect(await index.heldCounts(Q)).toEqual({ waiting: 0, released: 1, unseen: 1, ended: 0 });
  });

  it("counts held entries per queue, and refuses a bad cap", async () => {
    const index = new MemoryQueueIndex({ endedCap: 2 });
    await index.addWaiting(Q, [1, 2, 3, 4], T0);
    await index.end(Q, [1, 2, 3], "cancelled", T0);
    expect(await index.heldCounts(Q)).toEqual({ waiting: 1, released: 0, unseen: 0, ended: 2 });
    expect(await index.heldCounts("other")).toEqual({ waiting: 0, released: 0, unseen: 0, ended: 0 });
    expect(index.endedMemoryBytes()).toBeGreaterThan(0);
    expect(() => new MemoryQueueIndex({ endedCap: 0 })).toThrow(RangeError);
  });
});
