import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JoinBatcher } from "../../src/services/join-batcher.js";
import { createSite, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** Makes the record refuse one visitor id, so one queue's part of a batch fails in the database itself. */
async function poison(): Promise<() => Promise<void>> {
  if (h.store.dialect === "sqlite") {
    await sql`create trigger poison before insert on tickets when new.visitor_id = 'poison'
      begin select raise(abort, 'poisoned visitor'); end`.execute(h.store.db);
    return async () => void (await sql`drop trigger poison`.execute(h.store.db));
  }
  await sql`create function poison() returns trigger language plpgsql as $$
    begin if new.visitor_id = 'poison' then raise exception 'poisoned visitor'; end if; return new; end $$`.execute(
    h.store.db,
  );
  await sql`create trigger poison before insert on tickets for each row execute function poison()`.execute(
    h.store.db,
  );
  return async () => {
    await sql`drop trigger poison on tickets`.execute(h.store.db);
    await sql`drop function poison()`.execute(h.store.db);
  };
}

describe("a join batch spanning queues, one of which fails", () => {
  it("acknowledges only committed joins, indexes every one of them, and leaves nothing of a refused one", async () => {
    const a = await createSite(h);
    const b = await createSite(h);
    const cure = await poison();
    const batcher = new JoinBatcher(h.store, h.room.index, h.clock);
    // Joined in one tick, so all go into one batch.
    const requests = [
      { queueId: a.queueId, visitorId: "a-1" },
      { queueId: b.queueId, visitorId: "b-1" },
      { queueId: b.queueId, visitorId: "poison" },
      { queueId: a.queueId, visitorId: "a-2" },
    ];
    const settled = await Promise.allSettled(requests.map((request) => batcher.join(request)));
    await cure();

    for (const [i, request] of requests.entries()) {
      const outcome = settled[i];
      const stored = await h.store.db
        .selectFrom("tickets")
        .selectAll()
        .where("queue_id", "=", request.queueId)
        .where("visitor_id", "=", request.visitorId)
        .execute();
      if (outcome?.status === "fulfilled") {
        // Acknowledged: committed once, and in the hot index.
        expect(outcome.value.kind).toBe("joined");
        expect(stored).toHaveLength(1);
        const seq = stored[0]?.seq ?? 0;
        expect((await h.room.index.poll(request.queueId, seq, h.clock.now())).state).toBe("waiting");
      } else {
        expect(stored).toHaveLength(0);
      }
    }
    // The poisoned queue's joins are all refused (one statement per queue); the poison never stands.
    expect(settled[2]?.status).toBe("rejected");
    expect(settled[1]?.status).toBe("rejected");
    if (h.store.dialect === "postgres") {
      // Each queue's part of the batch stands on its own: the healthy queue's joins are not lost.
      expect(settled[0]?.status).toBe("fulfilled");
      expect(settled[3]?.status).toBe("fulfilled");
    }
    // And the queue that failed takes joins again.
    expect((await batcher.join({ queueId: b.queueId, visitorId: "b-1" })).kind).toBe("joined");
  });
});
