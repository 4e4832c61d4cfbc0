import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";
import { allQueueKeys } from "../../src/index/redis/keys.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import { luaDirectory } from "../../src/index/redis/script-loader.js";
import type { QueueIndex, QueueMeta } from "../../src/index/types.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * One behaviour suite for every QueueIndex adapter: the embedded one is the reference, the Redis one must
 * answer the same. Each test works in queues of its own (random ids), dropped afterwards; nothing is flushed.
 */
const redisAt = await redisForTests();

afterAll(() => redisAt?.redis.disconnect());

function connection(): Redis {
  if (redisAt === undefined) throw new Error("no Redis");
  return redisAt.redis;
}

/** What both adapters take besides their connection. */
interface IndexOptions {
  endedCap?: number;
}

const adapters: { name: string; make: (options?: IndexOptions) => QueueIndex }[] = [
  { name: "memory", make: (options) => new MemoryQueueIndex(options) },
  ...(redisAt === undefined
    ? []
    : [{ name: "redis", make: (options?: IndexOptions) => new RedisQueueIndex(connection(), options) }]),
];

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const TOKEN = `eyJhbGciOiJFZERTQSJ9.${"x".repeat(380)}.sig-_`;

describe.each(adapters)("QueueIndex conformance: $name", ({ make }) => {
  const index = make();
  const used: string[] = [];

  /** A fresh queue in normal operation: built, so the Redis index answers without "rebuilding". */
  async function queue(): Promise<string> {
    const id = randomUUID();
    used.push(id);
    await index.markLoaded(id);
    return id;
  }

  // reset, not drop: in Redis, drop leaves the queue's loaded marker behind.
  afterEach(async () => {
    for (const id of used.splice(0)) await index.reset(id);
  });

  afterAll(() => index.close());

  async function rank(q: string, seq: number, now = T0): Promise<number | string> {
    const ticket = await index.poll(q, seq, now);
    return ticket.state === "waiting" ? ticket.rank : ticket.state;
  }

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

describe.skipIf(redisAt === undefined)("RedisQueueIndex only", () => {
  const used: string[] = [];
  const index = redisAt === undefined ? undefined : new RedisQueueIndex(connection());

  function redisIndex(): RedisQueueIndex {
    if (index === undefined) throw new Error("no Redis");
    return index;
  }

  function queue(): string {
    const id = randomUUID();
    used.push(id);
    return id;
  }

  afterEach(async () => {
    for (const id of used.splice(0)) await redisIndex().reset(id);
  });

  it("puts every key of a queue in one cluster slot under the prefix", () => {
    const keys = allQueueKeys(new RedisQueueIndex(connection(), { prefix: "pfx" }).keys("Q1"));
    expect(keys).toHaveLength(9);
    for (const key of keys) expect(key).toMatch(/^pfx:\{q:Q1\}:[a-z_]+$/);
  });

  it("says rebuilding for a flushed queue's tickets until it is loaded again", async () => {
    const idx = redisIndex();
    const q = queue();
    expect(await idx.isLoaded(q)).toBe(false);
    await idx.addWaiting(q, [1, 2], T0);
    await idx.markLoaded(q);
    expect(await idx.isLoaded(q)).toBe(true);
    expect(await idx.poll(q, 2, T0)).toMatchObject({ state: "waiting", rank: 1 });

    await connection().del(...allQueueKeys(idx.keys(q)));
    expect(await idx.isLoaded(q)).toBe(false);
    // Joins after the flush: the line holds only them, so ranks would be wrong.
    await idx.addWaiting(q, [3], T0);
    expect(await idx.poll(q, 3, T0)).toEqual({ state: "unknown", size: 1, rebuilding: true });
    // A ticket the index lacks may be waiting in the record.
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 1, rebuilding: true });
    expect(await idx.waitingCount(q)).toBe(1);
    // Released and ended tickets can still be answered.
    await idx.markReleased(q, [{ seq: 4, accessToken: TOKEN, releasedAt: T0 }], T0);
    await idx.end(q, [5], "cancelled", T0);
    expect(await idx.poll(q, 4, T0)).toMatchObject({ state: "released", firstSeen: true });
    expect(await idx.poll(q, 5, T0)).toEqual({ state: "cancelled", size: 1 });

    await idx.addWaiting(q, [1, 2, 4, 5], T0);
    await idx.markLoaded(q);
    expect(await idx.poll(q, 3, T0)).toEqual({ state: "waiting", rank: 2, size: 3, meta: undefined });
    expect(await idx.poll(q, 9, T0)).toEqual({ state: "unknown", size: 3 });
  });

  it("reset forgets that the queue was loaded; drop keeps the marker so late polls go to the record", async () => {
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1], T0);
    await idx.markLoaded(q);
    await idx.reset(q);
    expect(await idx.isLoaded(q)).toBe(false);
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 0, rebuilding: true });
    await idx.addWaiting(q, [1], T0);
    await idx.markLoaded(q);
    await idx.drop(q);
    expect(await idx.isLoaded(q)).toBe(true);
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 0 });
    expect(await connection().exists(...allQueueKeys(idx.keys(q)))).toBe(1);
  });

  it("still records the heartbeat of a waiting ticket while the queue is not loaded", async () => {
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1], T0);
    await idx.poll(q, 1, T0 + 60 * SECOND);
    expect(await idx.abandoned(q, T0 + 30 * SECOND, 10)).toEqual([]);
  });

  it("polls in exactly one command, seen from both the client and the server", async () => {
    const redis = connection();
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1, 2], T0);
    await idx.markLoaded(q);
    await idx.poll(q, 2, T0); // the first script call on a socket is an EVAL; later ones EVALSHA

    const monitor = await redis.monitor();
    try {
      const seen: { args: string[]; source: string }[] = [];
      monitor.on("monitor", (_time: string, args: string[], source: string) => seen.push({ args, source }));
      const marker = randomUUID();
      await redis.echo(`start-${marker}`);
      const sent = vi.spyOn(redis, "sendCommand");
      const ticket = await idx.poll(q, 2, T0 + SECOND);
      expect(sent).toHaveBeenCalledTimes(1);
      sent.mockRestore();
      await redis.echo(`end-${marker}`);
      expect(ticket).toMatchObject({ state: "waiting", rank: 1, size: 2 });

      await vi.waitFor(() => expect(seen.some((e) => e.args[1] === `end-${marker}`)).toBe(true));
      const start = seen.findIndex((e) => e.args[1] === `start-${marker}`);
      const end = seen.findIndex((e) => e.args[1] === `end-${marker}`);
      const client = seen[start]?.source;
      const between = seen.slice(start + 1, end).filter((e) => e.source === client);
      expect(between.map((e) => e.args[0]?.toLowerCase())).toEqual(["evalsha"]);
      // The commands inside the script run on the server, not as round trips.
      expect(seen.slice(start + 1, end).some((e) => e.source === "lua")).toBe(true);
    } finally {
      monitor.disconnect();
    }
  });

  it("does not close the connection it was given", async () => {
    const redis = connection();
    await new RedisQueueIndex(redis).close();
    expect(await redis.ping()).toBe("PONG");
  });

  it("finds its Lua scripts beside the module, or under src/ when run from a dist build", () => {
    const source = luaDirectory();
    expect(source.href).toMatch(/\/src\/index\/redis\/lua\/$/);
    const dist = source.href.replace("/src/index/redis/lua/", "/dist/index/redis/scripts.js");
    expect(luaDirectory(dist).href).toBe(source.href);
    expect(() => luaDirectory("file:///nowhere/index/redis/scripts.js")).toThrow(/Lua scripts not found/);
  });
});
