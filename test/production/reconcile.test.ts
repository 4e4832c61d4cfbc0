import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisLocks } from "../../src/index/redis/locks.js";
import type { QueueIndex } from "../../src/index/types.js";
import { Metrics } from "../../src/observability/metrics.js";
import { IndexMaintenance } from "../../src/worker/upkeep/maintenance.js";
import { createSite, type Harness, type JoinBody, join, startHarness, status } from "../helpers/harness.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * Index upkeep on PostgreSQL + Redis (this file runs in the production project only): the rebuild of a
 * queue whose index is gone, and the reconciler's repair of drift in both directions.
 */
let h: Harness;
let maintenance: IndexMaintenance;
let metrics: Metrics;
let redis: Redis;

/** Maintenance as a worker runs it, with real locks in Redis. */
function upkeep(index: QueueIndex = h.room.index, registry = metrics): IndexMaintenance {
  return new IndexMaintenance({
    store: h.store,
    index,
    queues: h.room.queues,
    clock: h.clock,
    logger: pino({ level: "silent" }),
    metrics: registry,
    tryLock: redisLocks(redis, `aqt-locks-${randomUUID()}:`),
  });
}

beforeAll(async () => {
  h = await startHarness();
  const at = await redisForTests();
  if (at === undefined) throw new Error("redis unavailable");
  redis = new Redis(at.url);
  metrics = new Metrics();
  maintenance = upkeep();
});
afterAll(async () => {
  redis.disconnect();
  await h.close();
});

async function lineUp(count: number): Promise<{ queueId: string; visitors: JoinBody[] }> {
  const site = await createSite(h, { max_users_per_minute: 1 });
  const visitors: JoinBody[] = [];
  for (let i = 0; i < count; i++) visitors.push(await join(h, site.apiKey, site.queueId, `v${i}`));
  await h.room.engine.refresh();
  return { queueId: site.queueId, visitors };
}

describe("index upkeep", () => {
  it("rebuilds a queue whose index was emptied; polls say 'rebuilding' (503) until then", async () => {
    const { queueId, visitors } = await lineUp(30);
    await h.room.index.reset(queueId);
    const during = await h.app.inject({ method: "GET", url: `/queue_status?token=${visitors[5]?.token}` });
    expect(during.statusCode).toBe(503);
    expect(during.headers["retry-after"]).toBeDefined();
    expect(await maintenance.ensureLoaded()).toBeGreaterThanOrEqual(1);
    expect((await status(h, visitors[5]?.token ?? "")).position).toBe(6);
    expect((await status(h, visitors[29]?.token ?? "")).position).toBe(30);
    expect(await metrics.registry.getSingleMetricAsString("anteroom_index_rebuilds_total")).toContain(
      'outcome="done"',
    );
  });

  it("repairs a ticket missing from the index and one the index holds but the record has released", async () => {
    const { queueId, visitors } = await lineUp(20);
    // Drift both ways: ticket 4 vanished from the index; ticket 1 was released in the record only.
    await h.room.index.end(queueId, [4], "expired", h.clock.now());
    await h.store.db
      .updateTable("tickets")
      .set({ status: "released", released_at: new Date(h.clock.now()).toISOString(), access_token: "tok" })
      .where("queue_id", "=", queueId)
      .where("seq", "=", 1)
      .execute();
    await h.room.index.prune(queueId, h.clock.now() + 1); // forget the ended entry: 4 is simply absent
    const now = h.clock.now();
    expect((await h.room.index.poll(queueId, 4, now)).state).toBe("unknown");
    expect(await h.room.index.poll(queueId, 1, now)).toMatchObject({ state: "waiting", rank: 0 });

    expect(await maintenance.reconcile(queueId)).toBe(2);
    expect(await h.room.index.poll(queueId, 4, now)).toMatchObject({ state: "waiting", rank: 2 });
    expect(await h.room.index.poll(queueId, 1, now)).toMatchObject({ state: "released" });
    expect((await status(h, visitors[3]?.token ?? "")).position).toBe(3);
    expect((await status(h, visitors[19]?.token ?? "")).position).toBe(19);
    expect(await maintenance.reconcile(queueId)).toBe(0);
    const repairs = await metrics.registry.getSingleMetricAsString("anteroom_index_repairs_total");
    expect(repairs).toContain('kind="added"} 1');
    expect(repairs).toContain('kind="released"} 1');
  });

  it("releases its locks when done: reconciliation runs back to back, and a failed rebuild is retried at once", async () => {
    const { queueId, visitors } = await lineUp(5);
    expect(await maintenance.reconcileAll()).toBe(0);
    await h.room.index.end(queueId, [2], "cancelled", h.clock.now());
    await h.room.index.reset(queueId);
    await h.room.index.markLoaded(queueId);
    // The line is gone but marked loaded: only the reconciler can bring it back, and it runs again now.
    expect(await maintenance.reconcileAll()).toBeGreaterThanOrEqual(5);
    expect((await status(h, visitors[4]?.token ?? "")).position).toBe(5);

    await h.room.index.reset(queueId);
    let failures = 1;
    const flaky: QueueIndex = Object.create(h.room.index, {
      addWaiting: {
        value: async (...args: Parameters<QueueIndex["addWaiting"]>) => {
          if (failures-- > 0) throw new Error("index write failed");
          return h.room.index.addWaiting(...args);
        },
      },
    });
    const worker = upkeep(flaky, new Metrics());
    await expect(worker.ensureLoaded()).rejects.toThrow("index write failed");
    expect(await worker.ensureLoaded()).toBeGreaterThanOrEqual(1);
    expect((await status(h, visitors[4]?.token ?? "")).position).toBe(5);
  });
});
