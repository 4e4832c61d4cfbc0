import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { at, joined, keyRow, site, T0 } from "./fixtures.js";
import { gate, type Round, releaseRound } from "./release-round.js";

/** Settles with the promise's value, or "pending" if it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([
    promise,
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);
}

describe.each(dialects)("Store conformance, release under lock: $name", (dialect) => {
  const t = useStore(dialect);

  /** An application with `n` visitors waiting in one queue, a signing key, and (unless fresh) a past round. */
  async function application(n: number, fresh = false) {
    const { app, queue } = await site(t.store);
    await joined(
      t.store,
      queue.id,
      Array.from({ length: n }, (_, i) => `v${i + 1}`),
    );
    await t.store.signingKeys.insert(keyRow(`key-${app.id}`, at()));
    const round = (count: number, extra: Partial<Round> = {}): Round => ({
      applicationId: app.id,
      queueIds: [queue.id],
      now: T0 + 1000,
      counts: { [queue.id]: count },
      ...extra,
    });
    if (!fresh) await releaseRound(t.store, round(0));
    return { queueId: queue.id, round };
  }

  /** Every ticket released at most once, with exactly one callback each. */
  async function releasedOnce(queueId: string, released: readonly string[]) {
    expect(new Set(released).size).toBe(released.length);
    const stored = await t.store.db
      .selectFrom("tickets")
      .select("id")
      .where("queue_id", "=", queueId)
      .where("status", "=", "released")
      .execute();
    expect(new Set(stored.map((row) => row.id))).toEqual(new Set(released));
    const callbacks = (await t.store.outbox.forQueue(queueId)).map((entry) => entry.ticket_id);
    expect(callbacks.sort()).toEqual([...released].sort());
  }

  it("keeps the application while a round runs: another round is busy (PostgreSQL) or waits its turn (SQLite)", async () => {
    const { queueId, round } = await application(5);
    const held = gate();
    const first = releaseRound(
      t.store,
      round(2, {
        beforeAdmit: async () => {
          held.enter();
          await held.wait;
        },
      }),
    );
    await held.entered;
    const second = releaseRound(t.store, round(2));
    if (dialect.name === "postgres") {
      // Another worker skips the application this round rather than queueing behind the lock.
      expect(await within(second, 5000)).toBe("busy");
    } else {
      // One writer: the second round cannot start until the first commits.
      expect(await within(second, 200)).toBe("pending");
    }
    held.open();
    const [a, b] = await Promise.all([first, second]);
    if (a === "busy") throw new Error("the first round holds the lock");
    expect(a.released.map((row) => row.seq)).toEqual([1, 2]);
    const afterwards = b === "busy" ? [] : b.released.map((row) => row.seq);
    expect(afterwards).toEqual(dialect.name === "postgres" ? [] : [3, 4]);
    await releasedOnce(
      queueId,
      [a, b].flatMap((r) => (r === "busy" ? [] : r.released.map((row) => row.id))),
    );
  });

  it("never releases a ticket twice however many rounds run at once", async () => {
    for (const fresh of [false, true]) {
      const { queueId, round } = await application(12, fresh);
      const results = await Promise.all(Array.from({ length: 6 }, () => releaseRound(t.store, round(3))));
      const released = results.flatMap((r) => (r === "busy" ? [] : r.released.map((row) => row.id)));
      expect(released.length).toBeGreaterThan(0);
      await releasedOnce(queueId, released);
      // What one round released came from the front of the line, in order.
      for (const result of results) {
        if (result === "busy") continue;
        const seqs = result.released.map((row) => row.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
  });

  it("lets the next round take the application once a round commits or fails", async () => {
    const { queueId, round } = await application(4);
    await expect(
      releaseRound(
        t.store,
        round(2, {
          beforeAdmit: () => {
            throw new Error("boom");
          },
        }),
      ),
    ).rejects.toThrow("boom");
    const next = await releaseRound(t.store, round(2));
    expect(next === "busy" ? "busy" : next.released.map((row) => row.seq)).toEqual([1, 2]);
    const after = await releaseRound(t.store, round(2));
    expect(after === "busy" ? "busy" : after.released.map((row) => row.seq)).toEqual([3, 4]);
    await releasedOnce(
      queueId,
      [next, after].flatMap((r) => (r === "busy" ? [] : r.released.map((row) => row.id))),
    );
  });
});
