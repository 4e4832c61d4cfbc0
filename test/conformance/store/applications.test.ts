import { describe, expect, it } from "vitest";
import { UniqueViolation } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { at, newApplication, newQueue } from "./fixtures.js";

const NOBODY = "00000000-0000-4000-8000-000000000000";

describe.each(dialects)("Store conformance, applications: $name", (dialect) => {
  const t = useStore(dialect);

  it("creates an application, found by id and by API key hash with its sealed secret, never its hash", async () => {
    const { applications } = t.store;
    const fields = newApplication({ max_users_per_minute: 120, max_joins_per_second: 50 });
    const created = await applications.create(fields, at());
    const { api_key_hash: _hash, ...expected } = fields;
    expect(created).toEqual({ id: expect.any(String), ...expected, created_at: at(), updated_at: at() });
    expect(await applications.findById(created.id)).toEqual(created);
    expect(await applications.findByApiKeyHash(fields.api_key_hash)).toEqual(created);
    expect(await applications.findById(NOBODY)).toBeUndefined();
    expect(await applications.findByApiKeyHash("no-such-hash")).toBeUndefined();
  });

  it("refuses a second application with the same API key hash as a UniqueViolation", async () => {
    const { applications } = t.store;
    await applications.create(newApplication({ api_key_hash: "same" }), at());
    const again = applications.create(newApplication({ api_key_hash: "same" }), at(1));
    await expect(again).rejects.toBeInstanceOf(UniqueViolation);
    await expect(again).rejects.toMatchObject({ constraint: "applications.api_key_hash or publishable_key" });
  });

  it("finds a live application by its publishable key, rotates it, and keeps keys unique", async () => {
    const { applications } = t.store;
    const app = await applications.create(
      newApplication({
        publishable_key: "pk_first",
        origin_policy: "subdomains",
        frame_ancestors: "https://a.example",
      }),
      at(),
    );
    expect(await applications.findByPublishableKey("pk_first")).toMatchObject({
      id: app.id,
      origin_policy: "subdomains",
      frame_ancestors: "https://a.example",
    });
    expect(await applications.rotatePublishableKey(app.id, "pk_second", at(1))).toBe(true);
    expect(await applications.findByPublishableKey("pk_first")).toBeUndefined();
    expect((await applications.findByPublishableKey("pk_second"))?.id).toBe(app.id);
    await expect(
      applications.create(newApplication({ publishable_key: "pk_second" }), at(2)),
    ).rejects.toBeInstanceOf(UniqueViolation);
    await applications.softDelete(app.id, at(3));
    expect(await applications.findByPublishableKey("pk_second")).toBeUndefined();
    expect(await applications.rotatePublishableKey(app.id, "pk_third", at(4))).toBe(false);
  });

  it("lists what a caller may see, oldest first, a page at a time, without secrets or deleted ones", async () => {
    const { applications } = t.store;
    const a = await applications.create(newApplication({ name: "A" }), at(1));
    const b = await applications.create(newApplication({ name: "B" }), at(2));
    const c = await applications.create(newApplication({ name: "C" }), at(3));
    const gone = await applications.create(newApplication({ name: "Gone" }), at(4));
    await applications.softDelete(gone.id, at(5));
    const listed = ({ webhook_secret_enc: _secret, ...rest }: typeof a) => rest;

    expect(await applications.list("all", { limit: 10, offset: 0 })).toEqual({
      items: [a, b, c].map(listed),
      total: 3,
    });
    expect(await applications.list("all", { limit: 1, offset: 1 })).toEqual({ items: [listed(b)], total: 3 });
    expect(await applications.list([c.id, a.id, gone.id], { limit: 10, offset: 0 })).toEqual({
      items: [listed(a), listed(c)],
      total: 2,
    });
    expect(await applications.list([], { limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
    expect(await applications.list([NOBODY], { limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
  });

  it("updates a live application's fields (to null too), and nothing of a deleted or unknown one", async () => {
    const { applications } = t.store;
    const app = await applications.create(newApplication({ max_users_per_minute: 30 }), at());
    const updated = await applications.update(
      app.id,
      { name: "Renamed", domain: "new.example.com", max_users_per_minute: null, max_joins_per_second: 9 },
      at(10),
    );
    const { webhook_secret_enc: _secret, ...rest } = app;
    expect(updated).toMatchObject({
      ...rest,
      name: "Renamed",
      domain: "new.example.com",
      max_users_per_minute: null,
      max_joins_per_second: 9,
      updated_at: at(10),
    });
    expect(await applications.update(NOBODY, { name: "x" }, at())).toBeUndefined();
    await applications.softDelete(app.id, at(20));
    expect(await applications.update(app.id, { name: "Again" }, at(30))).toBeUndefined();
  });

  it("rotates the API key: the old hash no longer finds the application, the new one does", async () => {
    const { applications } = t.store;
    const app = await applications.create(newApplication({ api_key_hash: "old" }), at());
    expect(await applications.rotateApiKey(app.id, "new", "aq_live_new", at(10))).toBe(true);
    expect(await applications.findByApiKeyHash("old")).toBeUndefined();
    expect(await applications.findByApiKeyHash("new")).toMatchObject({
      id: app.id,
      api_key_prefix: "aq_live_new",
      updated_at: at(10),
    });
    expect(await applications.rotateApiKey(NOBODY, "other", "p", at())).toBe(false);
    await applications.softDelete(app.id, at(20));
    expect(await applications.rotateApiKey(app.id, "newer", "p", at(30))).toBe(false);
  });

  it("replaces a live application's webhook secret; reseals any application's only if unchanged", async () => {
    const { applications } = t.store;
    const live = await applications.create(newApplication({ webhook_secret_enc: "s1" }), at());
    const gone = await applications.create(newApplication({ webhook_secret_enc: "g1" }), at());
    await applications.softDelete(gone.id, at(1));
    expect(await applications.replaceWebhookSecret(live.id, "s2", at(2))).toBe(true);
    expect(await applications.findById(live.id)).toMatchObject({
      webhook_secret_enc: "s2",
      updated_at: at(2),
    });
    expect(await applications.replaceWebhookSecret(gone.id, "g2", at(2))).toBe(false);

    // Resealing covers deleted applications too, and is a conditional swap.
    const sealed = await applications.sealedWebhookSecrets();
    expect(sealed).toEqual(
      [
        { id: live.id, webhook_secret_enc: "s2" },
        { id: gone.id, webhook_secret_enc: "g1" },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    );
    expect(await applications.resealWebhookSecret(gone.id, "g1", "g1-resealed")).toBe(true);
    expect(await applications.resealWebhookSecret(live.id, "s1", "stale")).toBe(false);
    expect(await applications.resealWebhookSecret(live.id, "s2", "s2-resealed")).toBe(true);
    expect(await applications.sealedWebhookSecrets()).toEqual(
      expect.arrayContaining([
        { id: live.id, webhook_secret_enc: "s2-resealed" },
        { id: gone.id, webhook_secret_enc: "g1-resealed" },
      ]),
    );
    // A reseal is not a change an admin made.
    expect((await applications.findById(live.id))?.updated_at).toBe(at(2));
  });

  it("soft-deletes an application with every queue in it, once", async () => {
    const { applications, queues } = t.store;
    const app = await applications.create(newApplication(), at());
    const other = await applications.create(newApplication(), at());
    const q1 = await queues.create(newQueue(app.id), at());
    const q2 = await queues.create(newQueue(app.id, { name: "Second" }), at());
    const kept = await queues.create(newQueue(other.id), at());

    expect(await applications.softDelete(app.id, at(10))).toBe(true);
    expect(await applications.findById(app.id)).toBeUndefined();
    expect(await queues.findById(q1.id)).toBeUndefined();
    expect(await queues.findActive(q2.id)).toBeUndefined();
    expect((await queues.active()).map((queue) => queue.id)).toEqual([kept.id]);
    expect((await queues.list({ visible: "all" }, { limit: 10, offset: 0 })).total).toBe(1);
    // The queues themselves are deleted, not only hidden behind their application.
    const rows = await t.store.db
      .selectFrom("queues")
      .select(["id", "deleted_at"])
      .where("application_id", "=", app.id)
      .execute();
    expect(rows.map((row) => row.deleted_at)).toEqual([at(10), at(10)]);
    expect(await applications.softDelete(app.id, at(20))).toBe(false);
    expect(await queues.softDelete(q1.id, at(20))).toBe(false);
  });
});
