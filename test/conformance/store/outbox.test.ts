import { describe, expect, it } from "vitest";
import type { OutboxEntry } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { addCallback, at, joined, site } from "./fixtures.js";

const ids = (entries: readonly OutboxEntry[]) => entries.map((entry) => entry.id).sort();

describe.each(dialects)("Store conformance, outbox: $name", (dialect) => {
  const t = useStore(dialect);

  /** An application whose queue has `n` released visitors, each with a callback due at the given times. */
  async function callbacks(due: readonly number[]) {
    const { app, queue } = await site(t.store);
    const tickets = await joined(
      t.store,
      queue.id,
      due.map((_, i) => `v${i}`),
    );
    const entries: string[] = [];
    for (const [i, ticket] of tickets.entries())
      entries.push(await addCallback(t.store, app.id, ticket, at(due[i])));
    return { appId: app.id, queueId: queue.id, entries };
  }

  async function row(id: string) {
    return t.store.db
      .selectFrom("callback_outbox")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
  }

  it("claims due pending entries under a lease; not yet due, leased and finished ones stay", async () => {
    const { queueId, entries } = await callbacks([0, 10, 5000, 20, 30]);
    const [e1, e2, future, delivered, simulated] = entries;
    await t.store.db
      .updateTable("callback_outbox")
      .set({ status: "delivered" })
      .where("id", "=", delivered ?? "")
      .execute();
    await t.store.db
      .updateTable("callback_outbox")
      .set({ status: "simulated" })
      .where("id", "=", simulated ?? "")
      .execute();
    const { outbox } = t.store;
    expect(await outbox.claimDue(at(100), at(60_000), 0)).toEqual([]);
    const claimed = await outbox.claimDue(at(100), at(60_000), 10);
    expect(ids(claimed)).toEqual([e1, e2].sort());
    const [sample] = await outbox.forQueue(queueId);
    expect(claimed.find((entry) => entry.id === e1)).toEqual(sample);
    expect(sample).not.toHaveProperty("locked_until");
    expect((await row(e1 ?? "")).locked_until).toBe(at(60_000));
    expect(await outbox.claimDue(at(200), at(60_000), 10)).toEqual([]);
    expect(ids(await outbox.claimDue(at(5000), at(60_000), 10))).toEqual([future]);
  });

  it("claims the oldest due entries first, up to the limit", async () => {
    const { entries } = await callbacks([30, 10, 20]);
    expect(ids(await t.store.outbox.claimDue(at(100), at(1000), 2))).toEqual([entries[1], entries[2]].sort());
  });

  it("hands an entry whose lease ran out to the next claim; only the current lease records an outcome", async () => {
    const { entries } = await callbacks([0]);
    const { outbox } = t.store;
    const [entry] = await outbox.claimDue(at(0), at(1000), 10);
    if (entry === undefined) throw new Error("claim expected");
    expect(await outbox.claimDue(at(999), at(2000), 10)).toEqual([]);
    expect(ids(await outbox.claimDue(at(1000), at(2000), 10))).toEqual(entries);
    // The first worker's lease is stale: none of its outcomes count.
    expect(await outbox.markDelivered(entry.id, at(1000), 1, 200, at(1500))).toBe(false);
    expect(await outbox.scheduleRetry(entry.id, at(1000), 1, at(9000), "timeout", null)).toBe(false);
    expect(await outbox.markDead(entry, at(1000), 1, "https://x", "gone", 410, at(1500))).toBe(false);
    expect(await outbox.errors({ applicationIds: "all", limit: 10 })).toEqual([]);
    expect(await outbox.markDelivered(entry.id, at(2000), 2, 204, at(1500))).toBe(true);
    expect(await row(entry.id)).toMatchObject({
      status: "delivered",
      attempts: 2,
      last_status: 204,
      last_error: null,
      delivered_at: at(1500),
      locked_until: null,
    });
    expect(await outbox.markDelivered(entry.id, at(2000), 3, 200, at(1600))).toBe(false);
    expect(await outbox.claimDue(at(9000), at(10_000), 10)).toEqual([]);
  });

  it("reschedules a failed attempt: the entry is free again at its next attempt, not before", async () => {
    const { entries } = await callbacks([0]);
    const { outbox } = t.store;
    const [entry] = await outbox.claimDue(at(0), at(1000), 10);
    if (entry === undefined) throw new Error("claim expected");
    expect(await outbox.scheduleRetry(entry.id, at(1000), 1, at(5000), "connect ECONNREFUSED", null)).toBe(
      true,
    );
    expect(await row(entry.id)).toMatchObject({
      status: "pending",
      attempts: 1,
      next_attempt_at: at(5000),
      last_error: "connect ECONNREFUSED",
      last_status: null,
      locked_until: null,
    });
    expect(await outbox.claimDue(at(4999), at(9000), 10)).toEqual([]);
    const [again] = await outbox.claimDue(at(5000), at(9000), 10);
    expect(again).toMatchObject({ id: entries[0], attempts: 1 });
    expect(await outbox.scheduleRetry(entry.id, at(9000), 2, at(20_000), "HTTP 503", 503)).toBe(true);
    expect(await row(entry.id)).toMatchObject({ attempts: 2, last_error: "HTTP 503", last_status: 503 });
  });

  it("dead-letters an entry with its callback error in one transaction", async () => {
    const { appId, queueId } = await callbacks([0, 0]);
    const { outbox } = t.store;
    const [first, second] = await outbox.claimDue(at(0), at(1000), 10);
    if (first === undefined || second === undefined) throw new Error("claims expected");
    expect(await outbox.markDead(first, at(1000), 8, "https://shop/cb", "HTTP 500", 500, at(100))).toBe(true);
    expect(await row(first.id)).toMatchObject({
      status: "dead",
      attempts: 8,
      last_error: "HTTP 500",
      locked_until: null,
    });
    expect(await outbox.errors({ applicationIds: "all", limit: 10 })).toEqual([
      {
        id: expect.any(String),
        event_id: first.id,
        application_id: appId,
        queue_id: queueId,
        url: "https://shop/cb",
        attempts: 8,
        last_error: "HTTP 500",
        last_status: 500,
        created_at: at(100),
      },
    ]);
    expect(await outbox.markDead(first, at(1000), 9, "https://shop/cb", "again", null, at(200))).toBe(false);
    // The dead letter cannot be written (an application that does not exist): the entry stays as it was.
    const orphan = { ...second, application_id: "00000000-0000-4000-8000-000000000000" };
    await expect(
      outbox.markDead(orphan, at(1000), 8, "https://shop/cb", "x", null, at(300)),
    ).rejects.toThrow();
    expect(await row(second.id)).toMatchObject({ status: "pending", attempts: 0, locked_until: at(1000) });
    expect(await outbox.errors({ applicationIds: "all", limit: 10 })).toHaveLength(1);
  });

  it("lists dead letters newest first, by visibility and limit; a queue's entries oldest first", async () => {
    const a = await callbacks([0, 1]);
    const b = await callbacks([0]);
    const { outbox } = t.store;
    const claimed = await outbox.claimDue(at(10), at(1000), 10);
    for (const [i, entry] of claimed.entries())
      await outbox.markDead(entry, at(1000), 1, "https://x", `e${i}`, null, at(100 + i));
    const all = await outbox.errors({ applicationIds: "all", limit: 10 });
    expect(all.map((error) => error.created_at)).toEqual([at(102), at(101), at(100)]);
    expect(await outbox.errors({ applicationIds: "all", limit: 1 })).toEqual(all.slice(0, 1));
    const ofA = await outbox.errors({ applicationIds: [a.appId], limit: 10 });
    expect(ofA.map((error) => error.application_id)).toEqual([a.appId, a.appId]);
    expect(await outbox.errors({ applicationIds: [], limit: 10 })).toEqual([]);
    expect((await outbox.forQueue(a.queueId)).map((entry) => entry.id)).toEqual(a.entries);
    expect((await outbox.forQueue(b.queueId)).map((entry) => entry.id)).toEqual(b.entries);
  });

  it("never hands one entry to two concurrent claims", async () => {
    const { entries } = await callbacks(Array.from({ length: 40 }, (_, i) => i));
    const seen: string[] = [];
    for (let round = 0; round < 20; round++) {
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => t.store.outbox.claimDue(at(1000), at(60_000), 4)),
      );
      const got = claims.flat().map((entry) => entry.id);
      if (got.length === 0) break;
      seen.push(...got);
    }
    expect(seen).toHaveLength(entries.length);
    expect(new Set(seen)).toEqual(new Set(entries));
  });
});
