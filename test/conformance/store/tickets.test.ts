import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { at, joined, markReleased, site, ticket } from "./fixtures.js";

const sorted = (seqs: number[]) => [...seqs].sort((a, b) => a - b);

describe.each(dialects)("Store conformance, tickets: $name", (dialect) => {
  const t = useStore(dialect);

  /** A queue with visitors 1..n waiting, and a second queue with as many, to see nothing leaks across. */
  async function line(n: number) {
    const { queue } = await site(t.store);
    const other = await site(t.store);
    const names = Array.from({ length: n }, (_, i) => `v${i + 1}`);
    await joined(t.store, queue.id, names, at());
    await joined(t.store, other.queue.id, names, at());
    return { queueId: queue.id, otherId: other.queue.id };
  }

  it("finds tickets by number, one or many", async () => {
    const { queueId } = await line(4);
    expect(await t.store.tickets.findBySeq(queueId, 99)).toBeUndefined();
    const found = await t.store.tickets.findBySeqs(queueId, [4, 2, 99]);
    expect(sorted(found.map((row) => row.seq))).toEqual([2, 4]);
    expect(found.every((row) => row.queue_id === queueId)).toBe(true);
    expect(await t.store.tickets.findBySeqs(queueId, [])).toEqual([]);
  });

  it("cancels a waiting ticket once; a released or unknown one is not cancelled", async () => {
    const { queueId, otherId } = await line(3);
    const { tickets } = t.store;
    const first = await tickets.cancel(queueId, 1, at(10));
    expect(first).toEqual({
      cancelled: true,
      ticket: expect.objectContaining({
        seq: 1,
        status: "cancelled",
        ended_at: at(10),
        end_reason: "cancelled",
      }),
    });
    expect(await tickets.cancel(queueId, 1, at(20))).toEqual({ cancelled: false, ticket: first?.ticket });
    await markReleased(t.store, queueId, [2], at(5));
    const released = await tickets.cancel(queueId, 2, at(20));
    expect(released).toMatchObject({ cancelled: false, ticket: { status: "released", ended_at: null } });
    expect(await tickets.cancel(queueId, 99, at(20))).toBeUndefined();
    expect((await ticket(t.store, otherId, 1)).status).toBe("waiting");
  });

  it("expires abandoned tickets only while they wait, and says which it expired", async () => {
    const { queueId, otherId } = await line(5);
    const { tickets } = t.store;
    await tickets.cancel(queueId, 2, at(1));
    await markReleased(t.store, queueId, [3], at(1));
    expect(sorted(await tickets.expireAbandoned(queueId, [1, 2, 3, 4, 99], at(10)))).toEqual([1, 4]);
    expect(await ticket(t.store, queueId, 4)).toMatchObject({
      status: "expired",
      ended_at: at(10),
      end_reason: "abandoned",
    });
    expect((await ticket(t.store, queueId, 3)).status).toBe("released");
    expect(await tickets.expireAbandoned(queueId, [1, 4], at(20))).toEqual([]);
    expect(await tickets.expireAbandoned(queueId, [], at(20))).toEqual([]);
    expect((await ticket(t.store, otherId, 1)).status).toBe("waiting");
  });

  it("expires released tickets never seen, and only those", async () => {
    const { queueId, otherId } = await line(4);
    const { tickets } = t.store;
    await markReleased(t.store, queueId, [1, 2, 3], at(1));
    await markReleased(t.store, otherId, [1], at(1));
    expect(await tickets.markAdmitted(queueId, 2, at(2))).toBe(true);
    expect(sorted(await tickets.expireUnseen(queueId, [1, 2, 3, 4], at(10)))).toEqual([1, 3]);
    expect(await ticket(t.store, queueId, 3)).toMatchObject({
      status: "expired",
      ended_at: at(10),
      end_reason: "not_seen",
      access_token: "token-3",
    });
    expect((await ticket(t.store, queueId, 2)).status).toBe("released");
    expect((await ticket(t.store, queueId, 4)).status).toBe("waiting");
    expect(await tickets.expireUnseen(queueId, [], at(20))).toEqual([]);
    expect((await ticket(t.store, otherId, 1)).status).toBe("released");
  });

  it("marks a released visitor admitted the first time it is seen, and only then", async () => {
    const { queueId } = await line(2);
    const { tickets } = t.store;
    await markReleased(t.store, queueId, [1], at(1));
    expect(await tickets.markAdmitted(queueId, 2, at(2))).toBe(false);
    expect(await tickets.markAdmitted(queueId, 1, at(2))).toBe(true);
    expect(await tickets.markAdmitted(queueId, 1, at(3))).toBe(false);
    expect(await tickets.markAdmitted(queueId, 99, at(3))).toBe(false);
    expect(await ticket(t.store, queueId, 1)).toMatchObject({ status: "released", admitted_at: at(2) });
  });

  it("ends admissions released before a time, seen or not, at most a limit at a time", async () => {
    const { queueId, otherId } = await line(6);
    const { tickets } = t.store;
    await markReleased(t.store, queueId, [1, 2, 3], at(1000));
    await markReleased(t.store, queueId, [4], at(5000));
    await markReleased(t.store, otherId, [1], at(1000));
    await tickets.markAdmitted(queueId, 2, at(1500));
    const first = await tickets.endAdmissions(queueId, at(5000), at(9000), 2);
    expect(first).toHaveLength(2);
    const second = await tickets.endAdmissions(queueId, at(5000), at(9000), 2);
    expect(sorted([...first, ...second])).toEqual([1, 2, 3]);
    expect(await tickets.endAdmissions(queueId, at(5000), at(9000), 2)).toEqual([]);
    expect(await ticket(t.store, queueId, 2)).toMatchObject({
      status: "expired",
      ended_at: at(9000),
      end_reason: "admission_ended",
      admitted_at: at(1500),
    });
    // Released at the cut-off is not before it; waiting tickets and other queues are untouched.
    expect((await ticket(t.store, queueId, 4)).status).toBe("released");
    expect((await ticket(t.store, queueId, 5)).status).toBe("waiting");
    expect((await ticket(t.store, otherId, 1)).status).toBe("released");
  });

  it("counts those waiting ahead of a ticket", async () => {
    const { queueId } = await line(6);
    const { tickets } = t.store;
    await tickets.cancel(queueId, 2, at(1));
    await markReleased(t.store, queueId, [1], at(1));
    await tickets.expireAbandoned(queueId, [4], at(1));
    expect(await tickets.countWaitingBefore(queueId, 1)).toBe(0);
    expect(await tickets.countWaitingBefore(queueId, 5)).toBe(1);
    expect(await tickets.countWaitingBefore(queueId, 6)).toBe(2);
    expect(await tickets.countWaitingBefore(queueId, 100)).toBe(3);
  });

  it("pages the waiting numbers and the active tickets in ticket order", async () => {
    const { queueId } = await line(8);
    const { tickets } = t.store;
    await tickets.cancel(queueId, 2, at(1));
    await markReleased(t.store, queueId, [1, 5], at(1));
    await markReleased(t.store, queueId, [7], at(1));
    await tickets.expireUnseen(queueId, [7], at(2));
    expect(await tickets.waitingSeqs(queueId, 0, 100)).toEqual([3, 4, 6, 8]);
    expect(await tickets.waitingSeqs(queueId, 3, 2)).toEqual([4, 6]);
    expect(await tickets.waitingSeqs(queueId, 8, 10)).toEqual([]);

    const page = await tickets.activePage(queueId, 0, 3);
    expect(page.map((row) => [row.seq, row.status])).toEqual([
      [1, "released"],
      [3, "waiting"],
      [4, "waiting"],
    ]);
    expect(page[0]).toEqual(await ticket(t.store, queueId, 1));
    const rest = await tickets.activePage(queueId, 4, 10);
    expect(rest.map((row) => row.seq)).toEqual([5, 6, 8]);
  });

  it("takes any number of ticket numbers in one call, more than one statement can bind", async () => {
    // SQLite binds at most 32,766 parameters a statement, PostgreSQL 65,535: the reconciler may ask
    // about every stale number the hot index holds.
    const { queueId } = await line(6);
    const { tickets } = t.store;
    await markReleased(t.store, queueId, [5, 6], at(1));
    const many = (...known: number[]) => [...known, ...Array.from({ length: 70_000 }, (_, i) => 1000 + i)];
    expect(sorted((await tickets.findBySeqs(queueId, many(2, 4))).map((row) => row.seq))).toEqual([2, 4]);
    expect(sorted(await tickets.expireAbandoned(queueId, many(1, 2), at(10)))).toEqual([1, 2]);
    expect(await tickets.expireUnseen(queueId, many(6), at(10))).toEqual([6]);
  });
});
