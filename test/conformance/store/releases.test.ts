import { describe, expect, it } from "vitest";
import type { RateState } from "../../../src/domain/release-plan.js";
import { dialects, useStore } from "./dialects.js";
import { at, joined, keyRow, newQueue, site, T0, ticket } from "./fixtures.js";
import { releaseRound } from "./release-round.js";

describe.each(dialects)("Store conformance, release round: $name", (dialect) => {
  const t = useStore(dialect);

  /** An application with two queues, visitors waiting in each, and a signing key. */
  async function application(first = 5, second = 3) {
    const { app, queue } = await site(t.store);
    const other = await t.store.queues.create(newQueue(app.id, { name: "Other" }), at());
    const names = (n: number) => Array.from({ length: n }, (_, i) => `v${i + 1}`);
    await joined(t.store, queue.id, names(first), at(100));
    await joined(t.store, other.id, names(second), at(200));
    await t.store.signingKeys.insert(keyRow("key-1", at()));
    return { appId: app.id, q1: queue.id, q2: other.id, queueIds: [queue.id, other.id] };
  }

  const state = (tatMs: number, meterAt: number | undefined): RateState => ({
    tatMs,
    recent: [{ from: T0, step: 1000, first: 0, n: 3, late: 0.5, at: T0 + 2500 }],
    recordedFrom: T0 - 60_000,
    meter: { released: 2.75, busyMs: 1234.5, at: meterAt },
  });

  it("releases the oldest waiting tickets with their tokens and callbacks, and stores the rate state", async () => {
    const { appId, q1, q2, queueIds } = await application();
    await t.store.tickets.cancel(q1, 1, at(150));
    const now = T0 + 10_000;
    let settledWith: ReadonlyMap<string, number> | undefined;
    const states = new Map([
      [q1, state(now + 500.25, now)],
      [appId, state(now + 100, undefined)],
    ]);
    const round = await releaseRound(t.store, {
      applicationId: appId,
      queueIds,
      now,
      // More than are waiting in q2: the round releases what there is and says so.
      counts: { [q1]: 2, [q2]: 5 },
      states: (actual) => {
        settledWith = actual;
        return states;
      },
    });
    if (round === "busy") throw new Error("not busy");
    expect(settledWith).toEqual(
      new Map([
        [q1, 2],
        [q2, 3],
      ]),
    );
    expect(round.released.map((row) => [row.queue_id, row.seq])).toEqual([
      [q1, 2],
      [q1, 3],
      [q2, 1],
      [q2, 2],
      [q2, 3],
    ]);
    expect(round.states).toBe(states);
    for (const released of round.released) {
      const stored = await ticket(t.store, released.queue_id, released.seq);
      expect(released).toEqual(stored);
      expect(stored).toMatchObject({
        status: "released",
        released_at: new Date(now).toISOString(),
        access_token: `jwt.${released.seq}.key-1`,
        admitted_at: null,
      });
    }
    expect((await ticket(t.store, q1, 4)).status).toBe("waiting");

    const outbox = [...(await t.store.outbox.forQueue(q1)), ...(await t.store.outbox.forQueue(q2))];
    expect(outbox).toHaveLength(5);
    for (const released of round.released) {
      expect(outbox.find((entry) => entry.ticket_id === released.id)).toEqual({
        id: round.callbacks.get(released.id),
        application_id: appId,
        queue_id: released.queue_id,
        ticket_id: released.id,
        event: "visitor.released",
        payload: JSON.stringify({ seq: released.seq }),
        status: "pending",
        attempts: 0,
        next_attempt_at: new Date(now).toISOString(),
        last_error: null,
        last_status: null,
        created_at: new Date(now).toISOString(),
        delivered_at: null,
      });
    }
  });

  it("gives the next round the rate state the last one stored, and when each front visitor joined", async () => {
    const { appId, q1, q2, queueIds } = await application(2, 1);
    const seen: { states: ReadonlyMap<string, RateState>; since: ReadonlyMap<string, number> }[] = [];
    const saw = (states: ReadonlyMap<string, RateState>, since: ReadonlyMap<string, number>) =>
      void seen.push({ states, since });
    const stored = new Map([
      [q1, state(T0 + 3000.5, T0 + 1000)],
      [q2, { ...state(T0 + 7000, undefined), recent: [], recordedFrom: Number.NEGATIVE_INFINITY }],
      [appId, state(T0 + 1, T0)],
    ]);
    await releaseRound(t.store, {
      applicationId: appId,
      queueIds,
      now: T0 + 1000,
      counts: { [q2]: 1 },
      saw,
      states: () => stored,
    });
    await releaseRound(t.store, { applicationId: appId, queueIds, now: T0 + 2000, counts: {}, saw });

    const [first, second] = seen;
    // A first round finds no state for the queues; the application's, if there is one yet, is fresh.
    expect([first?.states.get(q1), first?.states.get(q2)]).toEqual([undefined, undefined]);
    const fresh = { tatMs: 0, recent: [], recordedFrom: Number.NEGATIVE_INFINITY };
    expect(
      first?.states.get(appId) ?? { ...fresh, meter: { released: 0, busyMs: 0, at: undefined } },
    ).toEqual({
      ...fresh,
      meter: { released: 0, busyMs: 0, at: undefined },
    });
    expect(first?.since).toEqual(
      new Map([
        [q1, T0 + 100],
        [q2, T0 + 200],
      ]),
    );
    expect(second?.states).toEqual(stored);
    // Nobody waits in q2 any more: it has no front.
    expect(second?.since).toEqual(new Map([[q1, T0 + 100]]));
  });

  it("signs with the newest key not revoked, breaking a tie as the key listing does", async () => {
    const { appId, q1 } = await application(3, 0);
    await t.store.signingKeys.insert(keyRow("key-2", at(2000)));
    await t.store.signingKeys.insert({ ...keyRow("key-3", at(3000)), revoked_at: at(3000) });
    const round = async (now: number) => {
      const result = await releaseRound(t.store, {
        applicationId: appId,
        queueIds: [q1],
        now,
        counts: { [q1]: 1 },
      });
      if (result === "busy") throw new Error("not busy");
      return result.released[0]?.access_token;
    };
    expect(await round(T0 + 5000)).toBe("jwt.1.key-2");
    // Two keys created in the same millisecond: the one listed last is the current one.
    await t.store.signingKeys.insert(keyRow("key-B", at(4000)));
    await t.store.signingKeys.insert(keyRow("key-a", at(4000)));
    const current = (await t.store.signingKeys.list()).filter((row) => row.revoked_at === null).at(-1);
    expect(await round(T0 + 6000)).toBe(`jwt.2.${current?.kid}`);
  });

  it("rolls the whole round back when it fails inside: tickets, callbacks, rate state and lock", async () => {
    const { appId, q1, q2, queueIds } = await application(3, 3);
    const snapshot = async () => ({
      tickets: await t.store.db.selectFrom("tickets").selectAll().orderBy("id").execute(),
      outbox: await t.store.db.selectFrom("callback_outbox").selectAll().orderBy("id").execute(),
      rates: await t.store.db.selectFrom("rate_state").selectAll().orderBy("subject_id").execute(),
    });
    const failing = (now: number) =>
      releaseRound(t.store, {
        applicationId: appId,
        queueIds,
        now,
        counts: { [q1]: 2, [q2]: 2 },
        states: () => new Map([[q1, state(now, now)]]),
        beforeAdmit: (row) => {
          if (row.queue_id === q2) throw new Error("signing failed");
        },
      });
    // First for an application never released (its lock row is new), then for one that was.
    const fresh = await snapshot();
    await expect(failing(T0 + 1000)).rejects.toThrow("signing failed");
    expect(await snapshot()).toEqual(fresh);
    await releaseRound(t.store, {
      applicationId: appId,
      queueIds,
      now: T0 + 2000,
      counts: { [q1]: 1 },
      states: () => new Map([[q1, state(1, 1)]]),
    });
    const before = await snapshot();
    await expect(failing(T0 + 3000)).rejects.toThrow("signing failed");
    expect(await snapshot()).toEqual(before);
  });

  it("refuses to release without a signing key, and releases nothing", async () => {
    const { app, queue } = await site(t.store);
    await joined(t.store, queue.id, ["v1"]);
    const round = releaseRound(t.store, {
      applicationId: app.id,
      queueIds: [queue.id],
      now: T0,
      counts: { [queue.id]: 1 },
    });
    await expect(round).rejects.toThrow(/signing key/);
    expect((await ticket(t.store, queue.id, 1)).status).toBe("waiting");
    // With nobody to release, no key is needed.
    const empty = await releaseRound(t.store, {
      applicationId: app.id,
      queueIds: [queue.id],
      now: T0,
      counts: {},
    });
    expect(empty).toMatchObject({ released: [] });
  });

  it("releases more tickets in one round than one statement can bind", async () => {
    // A fast queue after a stalled worker: a minute's worth of slots at once. Each callback binds 14
    // parameters; SQLite takes 32,766 a statement, PostgreSQL 65,535.
    const { app, queue } = await site(t.store, { max_users_per_minute: 1_000_000 });
    await t.store.signingKeys.insert(keyRow("key-1", at()));
    const n = 5000;
    await joined(
      t.store,
      queue.id,
      Array.from({ length: n }, (_, i) => `v${i + 1}`),
    );
    const round = await releaseRound(t.store, {
      applicationId: app.id,
      queueIds: [queue.id],
      now: T0 + 1000,
      counts: { [queue.id]: n },
    });
    if (round === "busy") throw new Error("not busy");
    expect(round.released).toHaveLength(n);
    const last = await ticket(t.store, queue.id, n);
    expect(last).toMatchObject({ status: "released", access_token: `jwt.${n}.key-1` });
    expect(await t.store.outbox.forQueue(queue.id)).toHaveLength(n);
  });
});
