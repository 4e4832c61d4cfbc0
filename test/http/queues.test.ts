import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, type Json, startHarness } from "../helpers/harness.js";

let h: Harness;
let admin: { authorization: string };
let mine: string;
let theirs: string;

async function createApp(): Promise<string> {
  const response = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: admin,
    payload: appBody(),
  });
  return response.json<{ id: string }>().id;
}

async function createQueue(applicationId: string, extra: Json = {}) {
  const response = await h.app.inject({
    method: "POST",
    url: "/queues/",
    headers: admin,
    payload: { application_id: applicationId, name: "Main", max_users_per_minute: 60, ...extra },
  });
  expect(response.statusCode).toBe(201);
  return response.json<Json & { id: string }>();
}

beforeAll(async () => {
  h = await startHarness();
  admin = await h.login("admin@example.com");
  mine = await createApp();
  theirs = await createApp();
  for (const [email, role] of [
    ["viewer@example.com", "viewer"],
    ["operator@example.com", "operator"],
  ] as const) {
    await h.login(email, role);
    await h.app.inject({
      method: "POST",
      url: `/users/${await h.userId(email)}/grants`,
      headers: admin,
      payload: { application_id: mine },
    });
  }
});
afterAll(() => h.close());

describe("queues: happy paths", () => {
  it("creates, reads, lists by application, updates and soft-deletes a queue", async () => {
    const queue = await createQueue(mine, { priority: 5 });
    expect(queue).toMatchObject({
      application_id: mine,
      name: "Main",
      max_users_per_minute: 60,
      priority: 5,
    });
    const read = await h.app.inject({ method: "GET", url: `/queues/${queue.id}/`, headers: admin });
    expect(read.json()).toEqual(queue);
    const list = await h.app.inject({ method: "GET", url: `/queues?application_id=${mine}`, headers: admin });
    expect(list.json<{ items: { id: string }[] }>().items.map((q) => q.id)).toContain(queue.id);
    const other = await h.app.inject({
      method: "GET",
      url: `/queues?application_id=${theirs}`,
      headers: admin,
    });
    expect(other.json<{ items: { id: string }[] }>().items.map((q) => q.id)).not.toContain(queue.id);
    const updated = await h.app.inject({
      method: "PUT",
      url: `/queues/${queue.id}`,
      headers: admin,
      payload: { max_users_per_minute: 600 },
    });
    expect(updated.json()).toMatchObject({ name: "Main", max_users_per_minute: 600, priority: 5 });
    expect(
      (await h.app.inject({ method: "DELETE", url: `/queues/${queue.id}`, headers: admin })).statusCode,
    ).toBe(204);
    expect(
      (await h.app.inject({ method: "GET", url: `/queues/${queue.id}`, headers: admin })).statusCode,
    ).toBe(404);
    expect(
      (
        await h.app.inject({
          method: "PUT",
          url: `/queues/${queue.id}`,
          headers: admin,
          payload: { name: "x" },
        })
      ).statusCode,
    ).toBe(404);
    const row = await h.store.db
      .selectFrom("queues")
      .select("deleted_at")
      .where("id", "=", queue.id)
      .executeTakeFirst();
    expect(row?.deleted_at).not.toBeNull();
  });

  it("defaults priority to 0", async () => {
    const queue = await createQueue(mine);
    expect(queue.priority).toBe(0);
  });
});

describe("queues: bad input", () => {
  const cases: [string, Json, string][] = [
    ["no application_id", { name: "q", max_users_per_minute: 1 }, "application_id"],
    [
      "application_id not a UUID",
      { application_id: "abc", name: "q", max_users_per_minute: 1 },
      "application_id",
    ],
    ["no name", { max_users_per_minute: 1 }, "name"],
    ["rate of zero", { name: "q", max_users_per_minute: 0 }, "max_users_per_minute"],
    ["fractional rate", { name: "q", max_users_per_minute: 1.5 }, "max_users_per_minute"],
    ["rate as a string", { name: "q", max_users_per_minute: "10" }, "max_users_per_minute"],
    ["priority out of range", { name: "q", max_users_per_minute: 1, priority: 10_000 }, "priority"],
  ];
  for (const [title, payload, field] of cases) {
    it(`create with ${title} is a 400 naming ${field}`, async () => {
      const response = await h.app.inject({
        method: "POST",
        url: "/queues/",
        headers: admin,
        payload: field === "application_id" ? payload : { application_id: mine, ...payload },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: "validation_failed", field } });
    });
  }

  it("a queue in an unknown application is a 404 and nothing is stored", async () => {
    const before = await h.store.queues.list({ visible: "all" }, { limit: 500, offset: 0 });
    const response = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: "00000000-0000-4000-8000-000000000000", name: "q", max_users_per_minute: 1 },
    });
    expect(response.statusCode).toBe(404);
    expect((await h.store.queues.list({ visible: "all" }, { limit: 500, offset: 0 })).total).toBe(
      before.total,
    );
  });

  it("an update with a bad value leaves the queue unchanged", async () => {
    const queue = await createQueue(mine);
    const response = await h.app.inject({
      method: "PUT",
      url: `/queues/${queue.id}`,
      headers: admin,
      payload: { name: "new", max_users_per_minute: -1 },
    });
    expect(response.statusCode).toBe(400);
    expect(await h.store.queues.findById(queue.id)).toMatchObject({ name: "Main", max_users_per_minute: 60 });
  });
});

describe("queues: security", () => {
  it("no token is a 401 on every route", async () => {
    const queue = await createQueue(mine);
    for (const [method, url] of [
      ["GET", "/queues/"],
      ["POST", "/queues/"],
      ["GET", `/queues/${queue.id}`],
      ["PUT", `/queues/${queue.id}`],
      ["DELETE", `/queues/${queue.id}`],
    ] as const) {
      expect((await h.app.inject({ method, url })).statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it("a viewer reads queues of a granted application but may not create, change or delete them (403)", async () => {
    const viewer = await h.login("viewer@example.com");
    const queue = await createQueue(mine);
    expect(
      (await h.app.inject({ method: "GET", url: `/queues/${queue.id}`, headers: viewer })).statusCode,
    ).toBe(200);
    const create = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: viewer,
      payload: { application_id: mine, name: "q", max_users_per_minute: 1 },
    });
    expect(create.statusCode).toBe(403);
    const update = await h.app.inject({
      method: "PUT",
      url: `/queues/${queue.id}`,
      headers: viewer,
      payload: { name: "x" },
    });
    expect(update.statusCode).toBe(403);
    expect(
      (await h.app.inject({ method: "DELETE", url: `/queues/${queue.id}`, headers: viewer })).statusCode,
    ).toBe(403);
  });

  it("an operator manages queues of a granted application", async () => {
    const operator = await h.login("operator@example.com");
    const create = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: operator,
      payload: { application_id: mine, name: "Ops queue", max_users_per_minute: 30 },
    });
    expect(create.statusCode).toBe(201);
    const id = create.json<{ id: string }>().id;
    expect(
      (await h.app.inject({ method: "DELETE", url: `/queues/${id}`, headers: operator })).statusCode,
    ).toBe(204);
  });

  it("another tenant's queues are 404 and absent from lists, even filtered by their application", async () => {
    const foreign = await createQueue(theirs);
    for (const email of ["viewer@example.com", "operator@example.com"]) {
      const caller = await h.login(email);
      for (const [method, url, payload] of [
        ["GET", `/queues/${foreign.id}`, undefined],
        ["PUT", `/queues/${foreign.id}`, { name: "x" }],
        ["DELETE", `/queues/${foreign.id}`, undefined],
        ["POST", "/queues/", { application_id: theirs, name: "q", max_users_per_minute: 1 }],
      ] as const) {
        const response = await h.app.inject({
          method,
          url,
          headers: caller,
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode, `${email} ${method} ${url}`).toBe(404);
      }
      const all = await h.app.inject({ method: "GET", url: "/queues?limit=200", headers: caller });
      const ids = all.json<{ items: { application_id: string }[] }>().items.map((q) => q.application_id);
      expect(ids.every((id) => id === mine)).toBe(true);
      const filtered = await h.app.inject({
        method: "GET",
        url: `/queues?application_id=${theirs}`,
        headers: caller,
      });
      expect(filtered.json()).toEqual({ items: [], total: 0 });
    }
    expect(await h.store.queues.findById(foreign.id)).toMatchObject({ name: "Main" });
  });
});
