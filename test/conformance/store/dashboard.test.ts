import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { addCallback, at, joined, markReleased, site } from "./fixtures.js";

describe.each(dialects)("Store conformance, dashboard: $name", (dialect) => {
  const t = useStore(dialect);

  async function expire(queueId: string, seq: number, reason: "abandoned" | "not_seen", endedAt: string) {
    await t.store.db
      .updateTable("tickets")
      .set({ status: "expired", ended_at: endedAt, end_reason: reason })
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .execute();
  }

  async function deadLetter(appId: string, queueId: string, eventId: string, createdAt: string) {
    const id = randomUUID();
    await t.store.db
      .updateTable("callback_outbox")
      .set({ status: "dead", attempts: 8, last_error: "HTTP 500", last_status: 500 })
      .where("id", "=", eventId)
      .execute();
    await t.store.db
      .insertInto("callback_errors")
      .values({
        id,
        event_id: eventId,
        application_id: appId,
        queue_id: queueId,
        url: "https://shop.example.com/cb",
        attempts: 8,
        last_error: "HTTP 500",
        last_status: 500,
        created_at: createdAt,
      })
      .execute();
    return id;
  }

  it("lists visible live queues and counts visible applications", async () => {
    const a = await site(t.store);
    const b = await site(t.store);
    const { dashboard } = t.store;
    expect((await dashboard.queues("all")).map((q) => q.id).sort()).toEqual([a.queue.id, b.queue.id].sort());
    expect(await dashboard.queues([a.app.id])).toEqual([
      {
        id: a.queue.id,
        application_id: a.app.id,
        name: a.queue.name,
        mode: a.queue.mode,
        max_users_per_minute: a.queue.max_users_per_minute,
        next_seq: 0,
      },
    ]);
    await joined(t.store, a.queue.id, ["v1", "v2", "v3"]);
    expect((await dashboard.queues([a.app.id]))[0]?.next_seq).toBe(3);
    expect(await dashboard.queues("all", b.app.id)).toHaveLength(1);
    expect(await dashboard.queues([a.app.id], b.app.id)).toEqual([]);
    expect(await dashboard.queues([])).toEqual([]);
    expect(await dashboard.applicationCount("all")).toBe(2);
    expect(await dashboard.applicationCount([b.app.id])).toBe(1);
    expect(await dashboard.applicationCount([])).toBe(0);
    await t.store.queues.softDelete(a.queue.id, at(1));
    expect(await dashboard.queues([a.app.id])).toEqual([]);
  });

  it("counts releases and expiries since a time, admitted visitors and the oldest waiting", async () => {
    const { queue } = await site(t.store);
    const other = await site(t.store);
    await joined(t.store, queue.id, ["v1", "v2", "v3", "v4", "v5"], at(0));
    await joined(t.store, other.queue.id, ["w1"], at(0));
    await markReleased(t.store, queue.id, [1], at(1_000));
    await markReleased(t.store, queue.id, [2, 3], at(60_000));
    await expire(queue.id, 1, "not_seen", at(70_000));
    await expire(queue.id, 4, "abandoned", at(80_000));
    const { dashboard } = t.store;
    const ids = [queue.id, other.queue.id];
    expect(await dashboard.releasedSince(ids, at(0))).toEqual(new Map([[queue.id, 3]]));
    expect(await dashboard.releasedSince(ids, at(60_000))).toEqual(new Map([[queue.id, 2]]));
    expect(await dashboard.releasedSince(ids, at(60_001))).toEqual(new Map());
    expect(await dashboard.releasedSince([], at(0))).toEqual(new Map());
    expect(await dashboard.expiredSince(ids, at(0))).toEqual({ not_seen: 1, abandoned: 1 });
    expect(await dashboard.expiredSince(ids, at(75_000))).toEqual({ abandoned: 1 });
    expect(await dashboard.activeAdmitted(ids)).toEqual(new Map([[queue.id, 2]]));
    expect(await dashboard.oldestWaiting(ids)).toEqual(
      new Map([
        [queue.id, at(0)],
        [other.queue.id, at(0)],
      ]),
    );
    await joined(t.store, queue.id, ["v6"], at(90_000));
    await expire(queue.id, 5, "abandoned", at(95_000));
    expect((await dashboard.oldestWaiting([queue.id])).get(queue.id)).toBe(at(90_000));
  });

  it("counts pending callbacks and dead letters; lists, retries and discards dead letters", async () => {
    const { app, queue } = await site(t.store);
    const other = await site(t.store);
    const tickets = await joined(t.store, queue.id, ["v1", "v2", "v3"]);
    const [t1, t2, t3] = tickets;
    if (t1 === undefined || t2 === undefined || t3 === undefined) throw new Error("three tickets");
    const e1 = await addCallback(t.store, app.id, t1, at(0));
    const e2 = await addCallback(t.store, app.id, t2, at(0));
    await addCallback(t.store, app.id, t3, at(0));
    const d1 = await deadLetter(app.id, queue.id, e1, at(1_000));
    const d2 = await deadLetter(app.id, queue.id, e2, at(2_000));
    const { dashboard } = t.store;
    expect(await dashboard.pendingCallbacks([queue.id, other.queue.id])).toEqual(new Map([[queue.id, 1]]));
    expect(await dashboard.deadLetters([queue.id])).toEqual(new Map([[queue.id, 2]]));
    expect(await dashboard.deadLetters([queue.id], at(1_500))).toEqual(new Map([[queue.id, 1]]));

    const page = await dashboard.listDeadLetters({ visible: "all" }, { limit: 1, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.items.map((item) => item.id)).toEqual([d2]);
    expect(page.items[0]).toMatchObject({
      event_id: e2,
      attempts: 8,
      last_status: 500,
      created_at: at(2_000),
    });
    expect((await dashboard.listDeadLetters({ visible: "all" }, { limit: 5, offset: 1 })).items[0]?.id).toBe(
      d1,
    );
    expect(await dashboard.listDeadLetters({ visible: [other.app.id] }, { limit: 5, offset: 0 })).toEqual({
      items: [],
      total: 0,
    });
    expect(
      (
        await dashboard.listDeadLetters(
          { visible: "all", applicationId: other.app.id },
          { limit: 5, offset: 0 },
        )
      ).total,
    ).toBe(0);
    expect(await dashboard.findDeadLetter(d1)).toMatchObject({ id: d1, application_id: app.id });

    expect(await dashboard.retryDeadLetter(d1, at(5_000))).toBe(true);
    expect(await dashboard.retryDeadLetter(d1, at(5_000))).toBe(false);
    expect(await dashboard.findDeadLetter(d1)).toBeUndefined();
    const entry = (await t.store.outbox.forQueue(queue.id)).find((row) => row.id === e1);
    expect(entry).toMatchObject({
      status: "pending",
      attempts: 0,
      next_attempt_at: at(5_000),
      last_error: null,
    });
    expect(await dashboard.pendingCallbacks([queue.id])).toEqual(new Map([[queue.id, 2]]));

    expect(await dashboard.discardDeadLetter(d2)).toBe(true);
    expect(await dashboard.discardDeadLetter(d2)).toBe(false);
    expect((await t.store.outbox.forQueue(queue.id)).find((row) => row.id === e2)?.status).toBe("dead");
    expect(await dashboard.deadLetters([queue.id])).toEqual(new Map());
  });
});
