import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import { ENDED_RETENTION_MS } from "../../src/worker/release/expiry.js";
import { createSite, currentAdapter, type Harness, join, startHarness, status } from "../helpers/harness.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * What ended tickets cost the hot index: a visitor may loop join -> cancel as fast as the API lets it, and
 * the index must still hold only a bounded number of ended entries, while every late poll keeps answering
 * truthfully (from the record once the index has let go).
 */

/** Well below the loop's length, so the loop overruns the cap many times over. */
const CAP = 300;
const ROUNDS = 2_000;

let h: Harness;
let index: MemoryQueueIndex | RedisQueueIndex;
let redis: Redis | undefined;
// Production: an index of our own (for its small cap) under a key prefix of our own, removed at the end.
const prefix = `aqt-ended-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  if (currentAdapter() === "production") {
    const at = await redisForTests();
    if (at === undefined) throw new Error("production adapters unavailable");
    redis = at.redis;
    index = new RedisQueueIndex(redis, { prefix, endedCap: CAP });
  } else {
    index = new MemoryQueueIndex({ endedCap: CAP });
  }
  h = await startHarness({ room: { index } });
});

afterAll(async () => {
  await h.close();
  if (redis !== undefined) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
});

async function cancel(token: string): Promise<void> {
  const response = await h.app.inject({ method: "POST", url: `/cancel?token=${encodeURIComponent(token)}` });
  expect(response.json()).toMatchObject({ status: "cancelled" });
}

describe("ended tickets in the hot index", () => {
  it("a visitor looping join -> cancel leaves at most the cap held; old tickets still answer cancelled", async () => {
    const site = await createSite(h);
    const tokens: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const joined = await join(h, site.apiKey, site.queueId, "looper");
      await cancel(joined.token);
      tokens.push(joined.token);
    }
    expect(await index.heldCounts(site.queueId)).toEqual({ waiting: 0, released: 0, unseen: 0, ended: CAP });
    const first = tokens[0] ?? "";
    const last = tokens.at(-1) ?? "";
    // The newest from the index, the oldest (dropped by the cap) from the record: both cancelled.
    expect((await status(h, last)).status).toBe("cancelled");
    expect((await status(h, first)).status).toBe("cancelled");

    h.clock.advance(ENDED_RETENTION_MS + 1_000);
    await h.room.engine.expire();
    expect((await index.heldCounts(site.queueId)).ended).toBe(0);
    for (const token of [first, tokens[ROUNDS / 2] ?? "", last]) {
      expect(await status(h, token)).toMatchObject({ status: "cancelled", position: null });
    }
    // The visitor can still queue.
    const again = await join(h, site.apiKey, site.queueId, "looper");
    expect(again).toMatchObject({ status: "waiting", position: 1 });
  }, 120_000);

  it("with the expiry worker running, an ended entry is held only for its retention", async () => {
    const site = await createSite(h);
    const step = 1_000;
    const rounds = Math.ceil((2 * ENDED_RETENTION_MS) / step);
    for (let i = 0; i < rounds; i++) {
      const joined = await join(h, site.apiKey, site.queueId, "slow-looper");
      await cancel(joined.token);
      h.clock.advance(step);
      if (i % 10 === 9) await h.room.engine.expire();
    }
    const held = (await index.heldCounts(site.queueId)).ended;
    // One a second for twice the retention: about a retention's worth held (give or take an expiry round).
    expect(held).toBeLessThanOrEqual(ENDED_RETENTION_MS / step + 10);
    expect(held).toBeGreaterThanOrEqual(ENDED_RETENTION_MS / step - 10);
    expect(held).toBeLessThan(CAP);
  }, 120_000);
});
