import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NewAlert } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { addCallback, at, joined, site } from "./fixtures.js";

const long = (subject: string, applicationId: string | null = null): NewAlert => ({
  kind: "queue_length",
  subject,
  application_id: applicationId,
  details: { waiting: 120, threshold: 100 },
});

describe.each(dialects)("Store conformance, alerts: $name", (dialect) => {
  const t = useStore(dialect);

  it("one firing alert per kind and subject, even when raised at once", async () => {
    const { alerts } = t.store;
    const raised = await Promise.all(
      [1, 2, 3].map(() => alerts.fire(long("q1"), ["email", "webhook"], at(0))),
    );
    expect(raised.filter((a) => a !== undefined)).toHaveLength(1);
    const [alert] = await alerts.recent(at(0));
    expect(alert).toMatchObject({
      kind: "queue_length",
      subject: "q1",
      state: "firing",
      fired_at: at(0),
      resolved_at: null,
      details: { waiting: 120, threshold: 100 },
    });
    // Two notifications (one per channel), not six.
    expect(await alerts.claimNotifications(at(1), at(60_000), 10)).toHaveLength(2);
  });

  it("resolves once, and a resolved alert may fire again as a new alert", async () => {
    const { alerts } = t.store;
    const fired = await alerts.fire(long("q1"), ["webhook"], at(0));
    if (fired === undefined) throw new Error("not fired");
    expect(await alerts.resolve(fired.id, ["webhook"], at(1000))).toBe(true);
    expect(await alerts.resolve(fired.id, ["webhook"], at(2000))).toBe(false);
    expect(await alerts.recent(at(1000))).toMatchObject([
      { id: fired.id, state: "resolved", resolved_at: at(1000) },
    ]);
    expect(await alerts.recent(at(1001))).toEqual([]);
    expect(await alerts.fire(long("q1"), ["webhook"], at(5000))).toBeDefined();
    const events = (await alerts.claimNotifications(at(6000), at(60_000), 10)).map((n) => n.event).sort();
    expect(events).toEqual(["fired", "fired", "resolved"]);
  });

  it("a claimed notification is not claimed again until its lease ends; sent once", async () => {
    const { alerts } = t.store;
    await alerts.fire(long("q1"), ["email"], at(0));
    const claims = await Promise.all([1, 2, 3].map(() => alerts.claimNotifications(at(0), at(30_000), 10)));
    expect(claims.flat()).toHaveLength(1);
    const [claimed] = claims.flat();
    if (claimed === undefined) throw new Error("nothing claimed");
    expect(claimed).toMatchObject({
      channel: "email",
      event: "fired",
      attempts: 0,
      alert: { subject: "q1" },
    });
    // A crashed worker's lease runs out: another takes it over, and the first can no longer record it.
    const taken = await alerts.claimNotifications(at(30_000), at(60_000), 10);
    expect(taken).toHaveLength(1);
    expect(await alerts.markSent(claimed.id, claimed.lockedUntil, 1, at(31_000))).toBe(false);
    expect(await alerts.markSent(claimed.id, at(60_000), 1, at(31_000))).toBe(true);
    expect(await alerts.claimNotifications(at(120_000), at(150_000), 10)).toEqual([]);
    expect((await alerts.recent(at(0)))[0]?.last_notified_at).toBe(at(31_000));
  });

  it("a retry waits for its time; a failed notification is not claimed again", async () => {
    const { alerts } = t.store;
    await alerts.fire(long("q1"), ["email"], at(0));
    const [first] = await alerts.claimNotifications(at(0), at(30_000), 10);
    if (first === undefined) throw new Error("nothing claimed");
    expect(await alerts.scheduleRetry(first.id, first.lockedUntil, 1, at(10_000), "refused")).toBe(true);
    expect(await alerts.claimNotifications(at(9_999), at(40_000), 10)).toEqual([]);
    const [second] = await alerts.claimNotifications(at(10_000), at(40_000), 10);
    expect(second?.attempts).toBe(1);
    if (second === undefined) throw new Error("nothing claimed");
    expect(await alerts.markFailed(second.id, second.lockedUntil, 2, "refused")).toBe(true);
    expect(await alerts.claimNotifications(at(100_000), at(130_000), 10)).toEqual([]);
  });

  it("history: newest first, filtered by state and application, tenant-scoped", async () => {
    const { alerts } = t.store;
    const one = await site(t.store);
    const two = await site(t.store);
    await alerts.fire(long(one.queue.id, one.app.id), [], at(1000));
    const b = await alerts.fire(long(two.queue.id, two.app.id), [], at(2000));
    await alerts.fire(
      { kind: "release_stalled", subject: "system", application_id: null, details: {} },
      [],
      at(3000),
    );
    if (b === undefined) throw new Error("not fired");
    await alerts.resolve(b.id, [], at(4000));
    const page = { limit: 10, offset: 0 };
    const all = await alerts.list({ visible: "all" }, page);
    expect(all.total).toBe(3);
    expect(all.items.map((a) => a.fired_at)).toEqual([at(3000), at(2000), at(1000)]);
    const granted = await alerts.list({ visible: [one.app.id] }, page);
    expect(granted.items.map((a) => a.application_id)).toEqual([one.app.id]);
    expect((await alerts.list({ visible: [] }, page)).total).toBe(0);
    expect((await alerts.list({ visible: "all", state: "resolved" }, page)).items.map((a) => a.id)).toEqual([
      b.id,
    ]);
    expect((await alerts.list({ visible: "all", applicationId: two.app.id }, page)).total).toBe(1);
    expect((await alerts.list({ visible: "all" }, { limit: 1, offset: 1 })).items[0]?.fired_at).toBe(
      at(2000),
    );
  });

  it("dead letters since a time, per application; thresholds and recipients", async () => {
    const { alerts } = t.store;
    const { app, queue } = await site(t.store);
    const [visitor] = await joined(t.store, queue.id, ["v1"]);
    if (visitor === undefined) throw new Error("no ticket");
    for (const created of [at(0), at(5000), at(6000)]) {
      const eventId = await addCallback(t.store, app.id, visitor, created);
      await t.store.db
        .insertInto("callback_errors")
        .values({
          id: randomUUID(),
          event_id: eventId,
          application_id: app.id,
          queue_id: queue.id,
          url: "https://example.com/cb",
          attempts: 8,
          last_error: "HTTP 500",
          last_status: 500,
          created_at: created,
        })
        .execute();
    }
    expect(await alerts.deadLettersSince(at(5000))).toEqual([{ applicationId: app.id, count: 2 }]);
    expect(await alerts.deadLettersSince(at(7000))).toEqual([]);

    expect(await alerts.thresholds()).toEqual(new Map());
    await alerts.setThreshold(queue.id, 500);
    expect(await alerts.thresholds()).toEqual(new Map([[queue.id, 500]]));
    expect(await alerts.recipients(app.id)).toEqual([]);
    await alerts.setRecipients(app.id, ["sale@example.com"]);
    expect(await alerts.recipients(app.id)).toEqual(["sale@example.com"]);
  });
});
