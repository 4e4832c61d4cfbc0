import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { JoinOutcome, Ticket } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { at, joined, markReleased, site, ticket } from "./fixtures.js";

const NOBODY = "00000000-0000-4000-8000-000000000000";

function ticketOf(outcome: JoinOutcome | undefined): Ticket {
  if (outcome === undefined || (outcome.kind !== "joined" && outcome.kind !== "existing"))
    throw new Error(`expected a ticket, got ${outcome?.kind}`);
  return outcome.ticket;
}

describe.each(dialects)("Store conformance, joinBatch: $name", (dialect) => {
  const t = useStore(dialect);

  it("gives new visitors consecutive numbers in request order, stored as returned", async () => {
    const { queue } = await site(t.store);
    const outcomes = await t.store.tickets.joinBatch(
      ["v1", "v2", "v3"].map((visitorId) => ({ queueId: queue.id, visitorId })),
      at(100),
    );
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(["joined", "joined", "joined"]);
    const tickets = outcomes.map(ticketOf);
    expect(tickets.map((t) => [t.seq, t.visitor_id])).toEqual([
      [1, "v1"],
      [2, "v2"],
      [3, "v3"],
    ]);
    for (const joinedTicket of tickets) {
      expect(joinedTicket).toEqual({
        id: expect.any(String),
        queue_id: queue.id,
        seq: joinedTicket.seq,
        visitor_id: joinedTicket.visitor_id,
        status: "waiting",
        joined_at: at(100),
        released_at: null,
        admitted_at: null,
        ended_at: null,
        end_reason: null,
        access_token: null,
        device_hash: null,
        return_to: null,
      });
      expect(await ticket(t.store, queue.id, joinedTicket.seq)).toEqual(joinedTicket);
    }
    // The next batch goes on from there.
    expect((await joined(t.store, queue.id, ["v4"]))[0]?.seq).toBe(4);
    expect(await t.store.tickets.joinBatch([], at())).toEqual([]);
  });

  it("returns a waiting or released visitor's ticket as it is, never a second place", async () => {
    const { queue } = await site(t.store);
    const [first, second] = await joined(t.store, queue.id, ["waits", "released"], at(1));
    await markReleased(t.store, queue.id, [2], at(2));
    const outcomes = await t.store.tickets.joinBatch(
      ["waits", "new", "released"].map((visitorId) => ({ queueId: queue.id, visitorId })),
      at(3),
    );
    expect(outcomes).toEqual([
      { kind: "existing", ticket: first },
      { kind: "joined", ticket: expect.objectContaining({ seq: 3, visitor_id: "new" }) },
      {
        kind: "existing",
        ticket: { ...second, status: "released", released_at: at(2), access_token: "token-2" },
      },
    ]);
    const stored = await t.store.db.selectFrom("tickets").select("seq").execute();
    expect(stored).toHaveLength(3);
  });

  it("joins a visitor listed twice in one batch once: the second request gets the same ticket", async () => {
    const { queue } = await site(t.store);
    const outcomes = await t.store.tickets.joinBatch(
      ["a", "b", "a", "c", "b"].map((visitorId) => ({ queueId: queue.id, visitorId })),
      at(),
    );
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      "joined",
      "joined",
      "existing",
      "joined",
      "existing",
    ]);
    const tickets = outcomes.map(ticketOf);
    expect(tickets.map((t) => t.seq)).toEqual([1, 2, 1, 3, 2]);
    expect(tickets[2]).toEqual(tickets[0]);
    // No number was spent on the repeats.
    expect((await joined(t.store, queue.id, ["d"]))[0]?.seq).toBe(4);
  });

  it("numbers each queue of a mixed batch on its own", async () => {
    const one = await site(t.store);
    const two = await site(t.store);
    await joined(t.store, two.queue.id, ["earlier"]);
    const outcomes = await t.store.tickets.joinBatch(
      [
        { queueId: one.queue.id, visitorId: "x" },
        { queueId: two.queue.id, visitorId: "x" },
        { queueId: one.queue.id, visitorId: "y" },
      ],
      at(),
    );
    expect(outcomes.map((outcome) => [ticketOf(outcome).queue_id, ticketOf(outcome).seq])).toEqual([
      [one.queue.id, 1],
      [two.queue.id, 2],
      [one.queue.id, 2],
    ]);
  });

  it("answers queue_gone for a deleted queue, a deleted application's queue or an unknown one, storing nothing", async () => {
    const live = await site(t.store);
    const deletedQueue = await site(t.store);
    const deletedApp = await site(t.store);
    await joined(t.store, deletedQueue.queue.id, ["before"]);
    await t.store.queues.softDelete(deletedQueue.queue.id, at(1));
    // Only the application's row: the join checks it, rather than relying on the delete reaching its queues.
    await t.store.db
      .updateTable("applications")
      .set({ deleted_at: at(1) })
      .where("id", "=", deletedApp.app.id)
      .execute();
    const outcomes = await t.store.tickets.joinBatch(
      [
        { queueId: deletedQueue.queue.id, visitorId: "before" },
        { queueId: deletedQueue.queue.id, visitorId: "after" },
        { queueId: live.queue.id, visitorId: "v" },
        { queueId: deletedApp.queue.id, visitorId: "v" },
        { queueId: NOBODY, visitorId: "v" },
      ],
      at(2),
    );
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      "queue_gone",
      "queue_gone",
      "joined",
      "queue_gone",
      "queue_gone",
    ]);
    const stored = await t.store.db.selectFrom("tickets").select(["queue_id", "visitor_id"]).execute();
    expect(stored).toHaveLength(2);
    const counters = await t.store.db.selectFrom("queues").select(["id", "next_seq"]).execute();
    expect(new Map(counters.map((row) => [row.id, Number(row.next_seq)]))).toEqual(
      new Map([
        [live.queue.id, 1],
        [deletedQueue.queue.id, 1],
        [deletedApp.queue.id, 0],
      ]),
    );
  });

  it("lets a visitor whose ticket ended join again, with a new number", async () => {
    const { queue } = await site(t.store);
    const { tickets } = t.store;
    const [cancelled, abandoned, unseen, admitted] = await joined(t.store, queue.id, ["c", "a", "u", "d"]);
    if (!cancelled || !abandoned || !unseen || !admitted) throw new Error("setup");
    await tickets.cancel(queue.id, cancelled.seq, at(1));
    await tickets.expireAbandoned(queue.id, [abandoned.seq], at(1));
    await markReleased(t.store, queue.id, [unseen.seq, admitted.seq], at(1));
    await tickets.expireUnseen(queue.id, [unseen.seq], at(2));
    await tickets.markAdmitted(queue.id, admitted.seq, at(2));
    expect(await tickets.endAdmissions(queue.id, at(5), at(5), 10)).toEqual([admitted.seq]);

    const again = (await joined(t.store, queue.id, ["c", "a", "u", "d"], at(10))).map((t) => t.seq);
    expect(again).toEqual([5, 6, 7, 8]);
    // The ended tickets stay as they were.
    expect((await ticket(t.store, queue.id, cancelled.seq)).status).toBe("cancelled");
    expect((await ticket(t.store, queue.id, admitted.seq)).end_reason).toBe("admission_ended");
  });

  it("keeps one ticket per visitor and distinct numbers when batches for one queue run concurrently", async () => {
    const { queue } = await site(t.store);
    const visitors = Array.from({ length: 12 }, (_, i) => `v${i}`);
    // Overlapping batches, as several API processes send them.
    const batches = Array.from({ length: 6 }, (_, b) =>
      visitors.filter((_, i) => (i + b) % 3 !== 0).map((visitorId) => ({ queueId: queue.id, visitorId })),
    );
    const results = await Promise.all(batches.map((batch) => t.store.tickets.joinBatch(batch, at())));
    const byVisitor = new Map<string, Set<string>>();
    results.forEach((outcomes, b) => {
      outcomes.forEach((outcome, i) => {
        const visitor = batches[b]?.[i]?.visitorId ?? "";
        const ids = byVisitor.get(visitor) ?? new Set<string>();
        ids.add(ticketOf(outcome).id);
        byVisitor.set(visitor, ids);
      });
    });
    for (const ids of byVisitor.values()) expect(ids.size).toBe(1);
    const stored = await t.store.tickets.activePage(queue.id, 0, 100);
    expect(stored).toHaveLength(visitors.length);
    expect(new Set(stored.map((row) => row.seq)).size).toBe(visitors.length);
    expect(new Set(stored.map((row) => row.visitor_id))).toEqual(new Set(visitors));
  });

  it("stores nothing of a queue's part that fails, and answers every request for what was stored", async () => {
    const healthy = await site(t.store);
    const failing = await site(t.store);
    // The record itself refuses one visitor id (this test's database only).
    if (dialect.name === "sqlite") {
      await sql`create trigger poison before insert on tickets when new.visitor_id = 'poison'
        begin select raise(abort, 'poisoned visitor'); end`.execute(t.store.db);
    } else {
      await sql`create function poison() returns trigger language plpgsql as $$
        begin if new.visitor_id = 'poison' then raise exception 'poisoned visitor'; end if; return new; end $$`.execute(
        t.store.db,
      );
      await sql`create trigger poison before insert on tickets for each row execute function poison()`.execute(
        t.store.db,
      );
    }
    const requests = [
      { queueId: healthy.queue.id, visitorId: "a" },
      { queueId: failing.queue.id, visitorId: "b" },
      { queueId: failing.queue.id, visitorId: "poison" },
    ];
    const result = await t.store.tickets.joinBatch(requests, at()).then(
      (outcomes) => ({ outcomes }),
      (error: unknown) => ({ error }),
    );
    const stored = await t.store.db.selectFrom("tickets").select(["queue_id", "visitor_id"]).execute();
    expect(stored.filter((row) => row.queue_id === failing.queue.id)).toEqual([]);
    if (dialect.name === "sqlite") {
      // One transaction for the whole batch: all of it fails, and says so.
      expect(result).toEqual({ error: expect.any(Error) });
      expect(stored).toEqual([]);
    } else {
      // One statement per queue: the healthy queue's part stands, and is answered as joined.
      if (!("outcomes" in result)) throw result.error;
      expect(result.outcomes.map((outcome) => outcome.kind)).toEqual(["joined", "failed", "failed"]);
      expect(stored).toEqual([{ queue_id: healthy.queue.id, visitor_id: "a" }]);
    }
    // Nothing failed alone: with every part refused, the batch throws.
    await expect(t.store.tickets.joinBatch(requests.slice(2), at())).rejects.toThrow(/poisoned visitor/);
  });
});
