import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptAtRest, hashApiKey } from "../../src/domain/secrets.js";
import { appBody, type Harness, type Json, startHarness } from "../helpers/harness.js";

let h: Harness;
let auth: { authorization: string };
beforeAll(async () => {
  h = await startHarness();
  auth = await h.login("admin@example.com");
});
afterAll(() => h.close());

async function create(name = "Shop") {
  const response = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: auth,
    payload: appBody(name),
  });
  expect(response.statusCode).toBe(201);
  return response.json<Json & { id: string; api_key: string; webhook_secret: string }>();
}

describe("applications: happy paths", () => {
  it("creates an application and shows its API key and webhook secret once", async () => {
    const created = await create();
    expect(created).toMatchObject({ name: "Shop", domain: "shop.example.com", max_users_per_minute: null });
    expect(created.api_key).toMatch(/^ak_[\w-]{43}$/);
    expect(created.webhook_secret).toMatch(/^whsec_[\w-]{43}$/);
    const read = await h.app.inject({ method: "GET", url: `/applications/${created.id}`, headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.json()).not.toHaveProperty("api_key");
    expect(read.json()).not.toHaveProperty("webhook_secret");
    expect(read.json()).toMatchObject({ id: created.id, api_key_prefix: created.api_key.slice(0, 10) });
  });

  it("stores the API key only as a SHA-256 hash and the webhook secret encrypted", async () => {
    const created = await create();
    const row = await h.store.db
      .selectFrom("applications")
      .selectAll()
      .where("id", "=", created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.api_key);
    expect(JSON.stringify(row)).not.toContain(created.webhook_secret);
    expect(row.api_key_hash).toBe(hashApiKey(created.api_key));
    expect(decryptAtRest(h.keys.atRest, row.webhook_secret_enc)).toBe(created.webhook_secret);
  });

  it("lists with total, limit and offset, and accepts a trailing slash or none", async () => {
    const before = (await h.app.inject({ method: "GET", url: "/applications", headers: auth })).json<{
      total: number;
    }>();
    await create("A");
    await create("B");
    const all = await h.app.inject({ method: "GET", url: "/applications/", headers: auth });
    expect(all.json<{ total: number }>().total).toBe(before.total + 2);
    const page = await h.app.inject({ method: "GET", url: "/applications?limit=1&offset=1", headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.json<{ items: unknown[]; total: number }>()).toMatchObject({ total: before.total + 2 });
    expect(page.json<{ items: unknown[] }>().items).toHaveLength(1);
  });

  it("updates only the fields sent", async () => {
    const created = await create();
    const response = await h.app.inject({
      method: "PUT",
      url: `/applications/${created.id}/`,
      headers: auth,
      payload: { name: "Renamed", max_users_per_minute: 120 },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      name: "Renamed",
      domain: "shop.example.com",
      max_users_per_minute: 120,
    });
    const cleared = await h.app.inject({
      method: "PUT",
      url: `/applications/${created.id}`,
      headers: auth,
      payload: { max_users_per_minute: null },
    });
    expect(cleared.json()).toMatchObject({ name: "Renamed", max_users_per_minute: null });
  });

  it("soft-deletes: later reads are 404, the list omits it, its queues go too, the row is kept", async () => {
    const created = await create();
    const queue = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: auth,
      payload: { application_id: created.id, name: "Main", max_users_per_minute: 10 },
    });
    const deleted = await h.app.inject({
      method: "DELETE",
      url: `/applications/${created.id}`,
      headers: auth,
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await h.app.inject({ method: "GET", url: `/applications/${created.id}`, headers: auth })).statusCode,
    ).toBe(404);
    expect(
      (await h.app.inject({ method: "DELETE", url: `/applications/${created.id}`, headers: auth }))
        .statusCode,
    ).toBe(404);
    const queueRead = await h.app.inject({
      method: "GET",
      url: `/queues/${queue.json<{ id: string }>().id}`,
      headers: auth,
    });
    expect(queueRead.statusCode).toBe(404);
    const list = await h.app.inject({ method: "GET", url: "/applications?limit=200", headers: auth });
    expect(list.json<{ items: { id: string }[] }>().items.map((a) => a.id)).not.toContain(created.id);
    expect(await h.store.applications.findByApiKeyHash(hashApiKey(created.api_key))).toBeUndefined();
    const row = await h.store.db
      .selectFrom("applications")
      .select("deleted_at")
      .where("id", "=", created.id)
      .executeTakeFirst();
    expect(row?.deleted_at).not.toBeNull();
  });

  it("rotates the API key: the new key works and the old one stops working", async () => {
    const created = await create();
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${created.id}/rotate-key`,
      headers: auth,
    });
    expect(rotated.statusCode).toBe(200);
    const { api_key } = rotated.json<{ api_key: string }>();
    expect(api_key).not.toBe(created.api_key);
    expect(await h.store.applications.findByApiKeyHash(hashApiKey(created.api_key))).toBeUndefined();
    expect((await h.store.applications.findByApiKeyHash(hashApiKey(api_key)))?.id).toBe(created.id);
  });
});

describe("applications: join limit", () => {
  it("max_joins_per_second is null (the default) unless set, and is set, read and cleared", async () => {
    const plain = await create();
    expect(plain).toMatchObject({ max_joins_per_second: null });
    const response = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: auth,
      payload: { ...appBody(), max_joins_per_second: 250 },
    });
    expect(response.statusCode).toBe(201);
    const { id } = response.json<{ id: string }>();
    const read = async () =>
      (await h.app.inject({ method: "GET", url: `/applications/${id}`, headers: auth })).json();
    expect(await read()).toMatchObject({ max_joins_per_second: 250 });
    const updated = await h.app.inject({
      method: "PUT",
      url: `/applications/${id}`,
      headers: auth,
      payload: { max_joins_per_second: 1_000_000 },
    });
    expect(updated.json()).toMatchObject({ max_joins_per_second: 1_000_000 });
    await h.app.inject({
      method: "PUT",
      url: `/applications/${id}`,
      headers: auth,
      payload: { max_joins_per_second: null },
    });
    expect(await read()).toMatchObject({ max_joins_per_second: null });
    const listed = await h.app.inject({ method: "GET", url: "/applications/?limit=200", headers: auth });
    expect(listed.json<{ items: Json[] }>().items.find((item) => item.id === id)).toMatchObject({
      max_joins_per_second: null,
    });
  });

  it("is in the OpenAPI document", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, Json>>;
    }>();
    expect(JSON.stringify(spec.paths["/applications/"]?.post)).toContain("max_joins_per_second");
    expect(JSON.stringify(spec.paths["/applications/{id}"]?.put)).toContain("max_joins_per_second");
  });
});

describe("applications: the visitor side (publishable key, origins, framing)", () => {
  it("shows the publishable key, the origin policy and frame_ancestors on create, read and list", async () => {
    const created = await create();
    expect(created).toMatchObject({
      publishable_key: expect.stringMatching(/^pk_[\w-]{24}$/),
      origin_policy: "domain",
      frame_ancestors: null,
    });
    const read = await h.app.inject({ method: "GET", url: `/applications/${created.id}`, headers: auth });
    expect(read.json()).toMatchObject({ publishable_key: created.publishable_key, origin_policy: "domain" });
    const listed = await h.app.inject({ method: "GET", url: "/applications/?limit=200", headers: auth });
    expect(listed.json<{ items: Json[] }>().items.find((item) => item.id === created.id)).toMatchObject({
      publishable_key: created.publishable_key,
      frame_ancestors: null,
    });
  });

  it("takes origin_policy and frame_ancestors on create and update; null frame_ancestors is the default", async () => {
    const response = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: auth,
      payload: {
        ...appBody(),
        origin_policy: "subdomains",
        frame_ancestors: "'self'  https://CMS.example.com:8443 https://shop.example.com",
      },
    });
    expect(response.statusCode).toBe(201);
    const { id } = response.json<{ id: string }>();
    expect(response.json()).toMatchObject({
      origin_policy: "subdomains",
      frame_ancestors: "'self' https://cms.example.com:8443 https://shop.example.com",
    });
    const update = (payload: Json) =>
      h.app.inject({ method: "PUT", url: `/applications/${id}`, headers: auth, payload });
    expect((await update({ frame_ancestors: "'none'" })).json()).toMatchObject({ frame_ancestors: "'none'" });
    expect((await update({ origin_policy: "domain", frame_ancestors: null })).json()).toMatchObject({
      origin_policy: "domain",
      frame_ancestors: null,
    });
    expect(await h.store.applications.findById(id)).toMatchObject({
      origin_policy: "domain",
      frame_ancestors: null,
    });
  });

  it("rotates the publishable key: a new one, the old one no longer found", async () => {
    const created = await create();
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${created.id}/rotate-publishable-key`,
      headers: auth,
    });
    expect(rotated.statusCode).toBe(200);
    const body = rotated.json<{ id: string; publishable_key: string }>();
    expect(body).toEqual({ id: created.id, publishable_key: expect.stringMatching(/^pk_/) });
    expect(body.publishable_key).not.toBe(created.publishable_key);
    expect(await h.store.applications.findByPublishableKey(String(created.publishable_key))).toBeUndefined();
    expect((await h.store.applications.findByPublishableKey(body.publishable_key))?.id).toBe(created.id);
  });

  it("is in the OpenAPI document", async () => {
    const spec = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, Json>>;
    }>();
    for (const field of ["publishable_key", "origin_policy", "frame_ancestors"]) {
      expect(JSON.stringify(spec.paths["/applications/{id}"]?.get), field).toContain(field);
    }
    expect(JSON.stringify(spec.paths["/applications/{id}"]?.put)).toContain("frame_ancestors");
    expect(spec.paths["/applications/{id}/rotate-publishable-key"]?.post).toBeDefined();
  });
});
