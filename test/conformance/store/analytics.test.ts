import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HISTOGRAM_ACCURACY, Histogram } from "../../../src/domain/histogram.js";
import type { EndReason, RollupRow } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { addCallback, at, joined, markReleased, newQueue, site, ticket } from "./fixtures.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each(dialects)("Store conformance, analytics rollups: $name", (dialect) => {
  const t = useStore(dialect);

  async function end(queueId: string, seq: number, reason: EndReason, endedAt: string) {
    await t.store.db
      .updateTable("tickets")
      .set({
        status: reason === "cancelled" ? "cancelled" : "expired",
        ended_at: endedAt,
        end_reason: reason,
      })
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .execute();
  }

  async function deliver(appId: string, queueId: string, seq: number, when: string, durationMs: number) {
    const id = await addCallback(t.store, appId, await ticket(t.store, queueId, seq), when);
    const lease = at(10 * HOUR);
    await t.store.db
      .updateTable("callback_outbox")
      .set({ locked_until: lease })
      .where("id", "=", id)
      .execute();
    expect(await t.store.outbox.markDelivered(id, lease, 1, 200, when, durationMs)).toBe(true);
    return id;
  }

  async function deadLetter(appId: string, queueId: string, seq: number, when: string) {
    const eventId = await addCallback(t.store, appId, await ticket(t.store, queueId, seq), when);
    await t.store.db
      .updateTable("callback_outbox")
      .set({ status: "dead" })
      .where("id", "=", eventId)
      .execute();
    await t.store.db
      .insertInto("callback_errors")
      .values({
        id: randomUUID(),
        event_id: eventId,
        application_id: appId,
        queue_id: queueId,
        url: "https://shop.example.com/cb",
        attempts: 8,
        last_error: "HTTP 500",
        last_status: 500,
        created_at: when,
      })
      .execute();
    return eventId;
  }

  const byHour = (rows: RollupRow[]) =>
    Object.fromEntries(
      [...rows]
        .sort((a, b) => a.period_start.localeCompare(b.period_start))
        .map((row) => [row.period_start, row]),
    );

  /** A queue's history over two hours: joins, releases, a cancel, an abandon, a delivery, a dead letter. */
  async function history() {
    const { app, queue } = await site(t.store);
    await joined(t.store, queue.id, ["a", "b", "c", "d", "e"], at(0));
    await joined(t.store, queue.id, ["f", "g", "h"], at(HOUR + 10 * MINUTE));
    await markReleased(t.store, queue.id, [1, 2], at(30 * MINUTE));
    await markReleased(t.store, queue.id, [3], at(HOUR + 5 * MINUTE));
    await end(queue.id, 4, "cancelled", at(40 * MINUTE));
    await end(queue.id, 5, "abandoned", at(HOUR + 50 * MINUTE));
    await deliver(app.id, queue.id, 1, at(31 * MINUTE), 180);
    await deadLetter(app.id, queue.id, 2, at(HOUR + 20 * MINUTE));
    return { app, queue };
  }

  it("counts each event into its hour once, in steps, with several workers at once", async () => {
    const { app, queue } = await history();
    const target = { id: queue.id, application_id: app.id };
    const runUntilCaughtUp = async () => {
      let steps = 0;
      for (;;) {
        steps++;
        const progress = await t.store.analytics.advance(target, at(2 * HOUR), {
          stepMs: 10 * MINUTE,
          maxJoins: 3,
        });
        if (progress.caught_up) return steps;
        expect(steps).toBeLessThan(100);
      }
    };
    // A second queue of the application, rolled up at the same time: both add to the application's rows.
    const second = await t.store.queues.create(newQueue(app.id, { name: "Second" }), at());
    await joined(t.store, second.id, ["x", "y"], at(MINUTE));
    await markReleased(t.store, second.id, [1], at(10 * MINUTE));
    const secondTarget = { id: second.id, application_id: app.id };
    const rollSecond = async () => {
      for (let steps = 0; steps < 100; steps++) {
        const progress = await t.store.analytics.advance(secondTarget, at(2 * HOUR), {
          stepMs: 10 * MINUTE,
          maxJoins: 1,
        });
        if (progress.caught_up) return;
      }
    };
    await Promise.all([
      runUntilCaughtUp(),
      rollSecond(),
      runUntilCaughtUp(),
      rollSecond(),
      runUntilCaughtUp(),
    ]);
    const rows = await t.store.analytics.rows({
      span: "hour",
      visible: "all",
      queueId: queue.id,
      from: at(0),
      to: at(3 * HOUR),
    });
    const hours = byHour(rows);
    expect(Object.keys(hours)).toEqual([at(0), at(HOUR)]);
    expect(hours[at(0)]).toMatchObject({
      subject_id: queue.id,
      level: "queue",
      application_id: app.id,
      joins: 5,
      releases: 2,
      cancels: 1,
      abandoned: 0,
      callbacks_delivered: 1,
      callbacks_failed: 0,
    });
    expect(hours[at(HOUR)]).toMatchObject({
      joins: 3,
      releases: 1,
      cancels: 0,
      abandoned: 1,
      callbacks_failed: 1,
    });
    const wait = Histogram.decode(hours[at(0)]?.wait_hist ?? "");
    expect(wait.count).toBe(2);
    expect(Math.abs((wait.quantile(0.5) ?? 0) - 30 * MINUTE)).toBeLessThanOrEqual(
      HISTOGRAM_ACCURACY * 30 * MINUTE,
    );
    expect(Histogram.decode(hours[at(0)]?.callback_hist ?? "").count).toBe(1);
    // The application's rows hold the sums of its queues.
    const appHours = byHour(
      await t.store.analytics.rows({ span: "hour", visible: "all", from: at(0), to: at(3 * HOUR) }),
    );
    expect(Object.keys(appHours)).toEqual([at(0), at(HOUR)]);
    expect(appHours[at(0)]).toMatchObject({
      subject_id: app.id,
      level: "application",
      joins: 7,
      releases: 3,
    });
    expect(Histogram.decode(appHours[at(0)]?.wait_hist ?? "").count).toBe(3);
    expect(appHours[at(HOUR)]).toMatchObject({ joins: 3, releases: 1, abandoned: 1, callbacks_failed: 1 });
    // The day's row holds the sum of its hours.
    const [day, ...otherDays] = await t.store.analytics.rows({
      span: "day",
      visible: "all",
      queueId: queue.id,
      from: at(0),
      to: at(24 * HOUR),
    });
    expect(otherDays).toEqual([]);
    expect(day).toMatchObject({
      period_start: at(0),
      joins: 8,
      releases: 3,
      cancels: 1,
      abandoned: 1,
      callbacks_failed: 1,
    });
    expect(Histogram.decode(day?.wait_hist ?? "").count).toBe(3);

    // Later events land in later hours; what was counted is not counted again.
    await markReleased(t.store, queue.id, [6], at(2 * HOUR + MINUTE));
    await joined(t.store, queue.id, ["i"], at(2 * HOUR + 2 * MINUTE));
    expect(await runUntilCaughtUp()).toBe(1);
    const progress = await t.store.analytics.advance(target, at(3 * HOUR), { stepMs: HOUR, maxJoins: 100 });
    expect(progress).toMatchObject({ rolled_until: at(3 * HOUR), rolled_seq: 9, caught_up: true });
    const after = byHour(
      await t.store.analytics.rows({
        span: "hour",
        visible: "all",
        queueId: queue.id,
        from: at(0),
        to: at(3 * HOUR),
      }),
    );
    expect(after[at(0)]).toMatchObject({ joins: 5, releases: 2 });
    expect(after[at(HOUR)]).toMatchObject({ joins: 3, releases: 1 });
    expect(after[at(2 * HOUR)]).toMatchObject({ joins: 1, releases: 1 });
  });

  it("keeps the highest sampled line per hour, apart from the counts", async () => {
    const { app, queue } = await history();
    const target = { id: queue.id, application_id: app.id };
    const subject = { level: "queue" as const, ...target };
    await t.store.analytics.notePeak(subject, at(0), 40);
    await t.store.analytics.notePeak(subject, at(0), 25);
    await t.store.analytics.advance(target, at(HOUR), { stepMs: HOUR, maxJoins: 100 });
    await t.store.analytics.notePeak(subject, at(0), 41);
    await t.store.analytics.notePeak(subject, at(5 * HOUR), 3);
    const hours = byHour(
      await t.store.analytics.rows({
        span: "hour",
        visible: "all",
        queueId: queue.id,
        from: at(0),
        to: at(6 * HOUR),
      }),
    );
    expect(hours[at(0)]).toMatchObject({ peak_waiting: 41, joins: 5, releases: 2 });
    expect(hours[at(5 * HOUR)]).toMatchObject({ peak_waiting: 3, joins: 0 });
    const days = await t.store.analytics.rows({
      span: "day",
      visible: "all",
      queueId: queue.id,
      from: at(0),
      to: at(24 * HOUR),
    });
    expect(days).toHaveLength(1);
    // Joins are counted by ticket number: all eight, the later three in their own hour.
    expect(days[0]).toMatchObject({ peak_waiting: 41, joins: 8, releases: 2 });
  });

  it("reads the hours of visible applications, of one application or one queue, in a range", async () => {
    const one = await site(t.store);
    const two = await site(t.store);
    const other = await t.store.queues.create(newQueue(one.app.id, { name: "Second" }), at());
    for (const [app, queue] of [
      [one.app.id, one.queue.id],
      [one.app.id, other.id],
      [two.app.id, two.queue.id],
    ] as const) {
      for (const hour of [0, 1, 30]) {
        await t.store.analytics.notePeak(
          { level: "queue", id: queue, application_id: app },
          at(hour * HOUR),
          1,
        );
        await t.store.analytics.notePeak(
          { level: "application", id: app, application_id: app },
          at(hour * HOUR),
          2,
        );
      }
    }
    const count = async (filter: Omit<Parameters<typeof t.store.analytics.rows>[0], "span">) =>
      (await t.store.analytics.rows({ span: "hour", ...filter })).length;
    const range = { from: at(0), to: at(24 * HOUR) };
    // Without a queue: the applications' own rows, one per application and hour.
    expect(await count({ visible: "all", ...range })).toBe(4);
    expect(await count({ visible: [one.app.id], ...range })).toBe(2);
    expect(await count({ visible: [], ...range })).toBe(0);
    expect(await count({ visible: "all", applicationId: two.app.id, ...range })).toBe(2);
    expect(await count({ visible: [one.app.id], applicationId: two.app.id, ...range })).toBe(0);
    expect(await count({ visible: "all", queueId: other.id, ...range })).toBe(2);
    expect(await count({ visible: [two.app.id], queueId: other.id, ...range })).toBe(0);
    expect(await count({ visible: "all", from: at(HOUR), to: at(31 * HOUR) })).toBe(4);
  });

  it("prunes ended tickets before the cutoff that the rollup counted, with their callbacks and dead letters", async () => {
    const { app, queue } = await history();
    const target = { id: queue.id, application_id: app.id };
    // Nothing is counted yet: nothing may go.
    expect(await t.store.analytics.pruneTickets(queue.id, at(10 * HOUR), 100)).toBe(0);
    await t.store.analytics.advance(target, at(HOUR), { stepMs: HOUR, maxJoins: 100 });
    await end(queue.id, 1, "admission_ended", at(45 * MINUTE));
    await end(queue.id, 2, "not_seen", at(50 * MINUTE));
    // Counted up to 1 h: tickets 4 (cancelled at 40 min), 1 (45 min) and 2 (50 min) may go, 5 (1 h 50) not yet.
    expect(await t.store.analytics.pruneTickets(queue.id, at(10 * HOUR), 2)).toBe(2);
    expect(await t.store.analytics.pruneTickets(queue.id, at(10 * HOUR), 2)).toBe(1);
    expect(await t.store.analytics.pruneTickets(queue.id, at(10 * HOUR), 2)).toBe(0);
    const left = await t.store.db
      .selectFrom("tickets")
      .select("seq")
      .where("queue_id", "=", queue.id)
      .execute();
    expect(left.map((row) => Number(row.seq)).sort()).toEqual([3, 5, 6, 7, 8]);
    expect(await t.store.db.selectFrom("callback_outbox").select("id").execute()).toEqual([]);
    expect(await t.store.db.selectFrom("callback_errors").select("id").execute()).toEqual([]);
    // The cutoff counts too: after the rollup has caught up, only tickets ended before it go.
    await t.store.analytics.advance(target, at(3 * HOUR), { stepMs: 3 * HOUR, maxJoins: 100 });
    expect(await t.store.analytics.pruneTickets(queue.id, at(HOUR + 49 * MINUTE), 100)).toBe(0);
    expect(await t.store.analytics.pruneTickets(queue.id, at(HOUR + 51 * MINUTE), 100)).toBe(1);
    // Rollups stay.
    const rows = await t.store.analytics.rows({
      span: "hour",
      visible: "all",
      from: at(0),
      to: at(3 * HOUR),
    });
    expect(rows.reduce((sum, row) => sum + row.joins, 0)).toBe(8);
    expect(await t.store.analytics.queueIds()).toEqual([queue.id]);
  });
});
