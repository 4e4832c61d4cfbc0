import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { at, newApplication, newQueue } from "./fixtures.js";

const NOBODY = "00000000-0000-4000-8000-000000000000";

describe.each(dialects)("Store conformance, queues: $name", (dialect) => {
  const t = useStore(dialect);

  it("creates a queue, found as itself and as an active queue with its application's intake", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(
      newApplication({ max_users_per_minute: 90, domain: "tickets.example.com" }),
      at(),
    );
    const fields = newQueue(app.id, {
      name: "Sale",
      max_users_per_minute: 120,
      priority: 3,
      mode: "simulation",
      release_ttl_seconds: 30,
      abandon_after_seconds: 20,
      admission_ttl_seconds: 900,
      redirect_url: "https://tickets.example.com/in",
    });
    const queue = await queues.create(fields, at(5));
    expect(queue).toEqual({ id: expect.any(String), ...fields, created_at: at(5), updated_at: at(5) });
    expect(await queues.findById(queue.id)).toEqual(queue);
    const active = {
      ...queue,
      application_rate: 90,
      application_domain: "tickets.example.com",
      application_origin_policy: "domain",
      application_frame_ancestors: null,
    };
    expect(await queues.findActive(queue.id)).toEqual(active);
    expect(await queues.active()).toEqual([active]);
    expect(await queues.findById(NOBODY)).toBeUndefined();
    expect(await queues.findActive(NOBODY)).toBeUndefined();
  });

  it("lists every live queue of every live application as active, oldest first", async () => {
    const { applications, queues } = t.store;
    const a = await applications.create(newApplication(), at());
    const b = await applications.create(newApplication({ max_users_per_minute: 10 }), at());
    const late = await queues.create(newQueue(a.id, { name: "late" }), at(30));
    const early = await queues.create(newQueue(b.id, { name: "early" }), at(10));
    const deleted = await queues.create(newQueue(a.id, { name: "deleted" }), at(20));
    await queues.softDelete(deleted.id, at(40));
    const active = await queues.active();
    expect(active.map((queue) => [queue.name, queue.application_rate])).toEqual([
      ["early", 10],
      ["late", null],
    ]);
    expect(active.map((queue) => queue.id)).toEqual([early.id, late.id]);
  });

  it("lists queues by visibility and application, a page at a time", async () => {
    const { applications, queues } = t.store;
    const a = await applications.create(newApplication(), at());
    const b = await applications.create(newApplication(), at());
    const a1 = await queues.create(newQueue(a.id, { name: "a1" }), at(1));
    const b1 = await queues.create(newQueue(b.id, { name: "b1" }), at(2));
    const a2 = await queues.create(newQueue(a.id, { name: "a2" }), at(3));
    const page = { limit: 10, offset: 0 };

    expect(await queues.list({ visible: "all" }, page)).toEqual({ items: [a1, b1, a2], total: 3 });
    expect(await queues.list({ visible: "all" }, { limit: 2, offset: 1 })).toEqual({
      items: [b1, a2],
      total: 3,
    });
    expect(await queues.list({ visible: [a.id] }, page)).toEqual({ items: [a1, a2], total: 2 });
    expect(await queues.list({ visible: "all", applicationId: b.id }, page)).toEqual({
      items: [b1],
      total: 1,
    });
    // A filter on an application the caller may not see finds nothing.
    expect(await queues.list({ visible: [a.id], applicationId: b.id }, page)).toEqual({
      items: [],
      total: 0,
    });
    expect(await queues.list({ visible: [] }, page)).toEqual({ items: [], total: 0 });
  });

  it("updates a live queue's settings, and nothing of a deleted or unknown one", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(newApplication(), at());
    const queue = await queues.create(newQueue(app.id, { redirect_url: "https://a.example.com" }), at());
    const updated = await queues.update(
      queue.id,
      { name: "Renamed", max_users_per_minute: 5, priority: 7, redirect_url: null, release_ttl_seconds: 60 },
      at(10),
    );
    expect(updated).toEqual({
      ...queue,
      name: "Renamed",
      max_users_per_minute: 5,
      priority: 7,
      redirect_url: null,
      release_ttl_seconds: 60,
      updated_at: at(10),
    });
    expect(await queues.update(NOBODY, { name: "x" }, at())).toBeUndefined();
    expect(await queues.softDelete(queue.id, at(20))).toBe(true);
    expect(await queues.update(queue.id, { name: "Again" }, at(30))).toBeUndefined();
  });

  it("soft-deletes a queue once: gone from every lookup, its application untouched", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(newApplication(), at());
    const queue = await queues.create(newQueue(app.id), at());
    const other = await queues.create(newQueue(app.id, { name: "Other" }), at());
    expect(await queues.softDelete(queue.id, at(10))).toBe(true);
    expect(await queues.softDelete(queue.id, at(20))).toBe(false);
    expect(await queues.softDelete(NOBODY, at(20))).toBe(false);
    expect(await queues.findById(queue.id)).toBeUndefined();
    expect(await queues.findActive(queue.id)).toBeUndefined();
    expect((await queues.active()).map((q) => q.id)).toEqual([other.id]);
    expect(await queues.list({ visible: "all" }, { limit: 10, offset: 0 })).toEqual({
      items: [other],
      total: 1,
    });
    expect(await applications.findById(app.id)).toBeDefined();
  });

  it("treats a queue whose application is deleted as gone, whatever its own row says", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(newApplication(), at());
    const queue = await queues.create(newQueue(app.id), at());
    await t.store.db
      .updateTable("applications")
      .set({ deleted_at: at(1) })
      .where("id", "=", app.id)
      .execute();
    expect(await queues.findById(queue.id)).toBeUndefined();
    expect(await queues.findActive(queue.id)).toBeUndefined();
    expect(await queues.active()).toEqual([]);
    expect(await queues.list({ visible: "all" }, { limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
  });

  it("keeps a queue's waiting-page settings as given, and replaces or clears them on update", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(newApplication(), at());
    const page = {
      title: { en: "Drop day", ar: "يوم الإطلاق" },
      message: { en: "Hold tight" },
      logo_url: "https://cdn.example.com/logo.png",
      accent_color: "#aa3300",
    };
    const queue = await queues.create(newQueue(app.id, { page }), at(1));
    expect(queue.page).toEqual(page);
    expect((await queues.findById(queue.id))?.page).toEqual(page);
    expect((await queues.findActive(queue.id))?.page).toEqual(page);
    expect((await queues.active()).find((q) => q.id === queue.id)?.page).toEqual(page);
    const list = await queues.list({ visible: "all", applicationId: app.id }, { limit: 10, offset: 0 });
    expect(list.items[0]?.page).toEqual(page);
    const changed = { message: { ar: "انتظر قليلًا" } };
    expect((await queues.update(queue.id, { page: changed }, at(2)))?.page).toEqual(changed);
    expect((await queues.update(queue.id, { page: null }, at(3)))?.page).toBeNull();
    expect((await queues.update(queue.id, { name: "Renamed" }, at(4)))?.page).toBeNull();
  });
});
