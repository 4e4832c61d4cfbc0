import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
let admin: { authorization: string };
let mine: string;
let theirs: string;

type AlertPage = {
  items: { application_id: string | null; state: string; kind: string; subject: string }[];
  total: number;
};

async function createApp(): Promise<string> {
  const response = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: admin,
    payload: appBody(),
  });
  return response.json<{ id: string }>().id;
}

async function get(url: string, headers: { authorization: string } | Record<string, never>) {
  return h.app.inject({ method: "GET", url, headers });
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
  const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms).toISOString();
  await h.store.alerts.fire(
    { kind: "queue_length", subject: "q-mine", application_id: mine, details: { waiting: 5 } },
    [],
    at(1000),
  );
  const resolved = await h.store.alerts.fire(
    { kind: "dead_letters", subject: theirs, application_id: theirs, details: { count: 2 } },
    [],
    at(2000),
  );
  if (resolved !== undefined) await h.store.alerts.resolve(resolved.id, [], at(2500));
  await h.store.alerts.fire(
    { kind: "release_stalled", subject: "system", application_id: null, details: {} },
    [],
    at(3000),
  );
});
afterAll(() => h.close());

describe("GET /dashboard/alerts", () => {
  it("admins see every alert, newest first, filtered by state and application, paged", async () => {
    const all = await get("/dashboard/alerts", admin);
    expect(all.statusCode).toBe(200);
    const page = all.json<AlertPage>();
    expect(page.total).toBe(3);
    expect(page.items.map((a) => a.kind)).toEqual(["release_stalled", "dead_letters", "queue_length"]);
    expect(page.items[1]).toMatchObject({ state: "resolved", application_id: theirs, subject: theirs });
    const resolved = (await get("/dashboard/alerts?state=resolved", admin)).json<AlertPage>();
    expect(resolved.items.map((a) => a.kind)).toEqual(["dead_letters"]);
    const ofMine = (await get(`/dashboard/alerts?app_id=${mine}`, admin)).json<AlertPage>();
    expect(ofMine.items.map((a) => a.subject)).toEqual(["q-mine"]);
    const second = (await get("/dashboard/alerts?limit=1&offset=1", admin)).json<AlertPage>();
    expect(second).toMatchObject({ total: 3, items: [{ kind: "dead_letters" }] });
  });

  it("operators and viewers see their applications' alerts only, and no system-wide ones", async () => {
    for (const email of ["operator@example.com", "viewer@example.com"]) {
      const headers = await h.login(email);
      const page = (await get("/dashboard/alerts", headers)).json<AlertPage>();
      expect(page.total).toBe(1);
      expect(page.items.map((a) => a.application_id)).toEqual([mine]);
      const other = (await get(`/dashboard/alerts?app_id=${theirs}`, headers)).json<AlertPage>();
      expect(other).toEqual({ items: [], total: 0 });
    }
  });

  it("refuses anonymous callers and malformed queries", async () => {
    expect((await get("/dashboard/alerts", {})).statusCode).toBe(401);
    for (const query of [
      "state=bogus",
      "app_id=not-a-uuid",
      `app_id=${"a".repeat(5000)}`,
      "limit=0",
      "limit=201",
      "offset=-1",
    ]) {
      const response = await get(`/dashboard/alerts?${query}`, admin);
      expect(response.statusCode, query).toBe(400);
    }
  });

  it("is in the OpenAPI document with its response schema", async () => {
    const doc = (await get("/openapi.json", {})).json<{
      paths: Record<
        string,
        {
          get?: {
            responses: Record<string, { content?: unknown }>;
            parameters?: { name: string; schema: { maxLength?: number; enum?: unknown } }[];
          };
        }
      >;
    }>();
    const operation = doc.paths["/dashboard/alerts"]?.get;
    expect(operation?.responses["200"]?.content).toBeDefined();
    const appId = operation?.parameters?.find((p) => p.name === "app_id");
    expect(appId?.schema.maxLength).toBe(36);
  });
});

describe("alert settings in the admin API", () => {
  it("a queue's alert_threshold: set, read, cleared, validated; the alert task reads it", async () => {
    const created = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: mine, name: "Sale", max_users_per_minute: 60, alert_threshold: 500 },
    });
    expect(created.statusCode).toBe(201);
    const queue = created.json<{ id: string; alert_threshold: number | null }>();
    expect(queue.alert_threshold).toBe(500);
    expect((await h.store.alerts.thresholds()).get(queue.id)).toBe(500);
    const cleared = await h.app.inject({
      method: "PUT",
      url: `/queues/${queue.id}`,
      headers: admin,
      payload: { alert_threshold: null },
    });
    expect(cleared.json<{ alert_threshold: number | null }>().alert_threshold).toBeNull();
    expect((await h.store.alerts.thresholds()).has(queue.id)).toBe(false);
    for (const bad of [0, -1, 1.5, "100", 2_000_000_000]) {
      const response = await h.app.inject({
        method: "PUT",
        url: `/queues/${queue.id}`,
        headers: admin,
        payload: { alert_threshold: bad },
      });
      expect(response.statusCode, String(bad)).toBe(400);
    }
    const viewer = await h.login("viewer@example.com");
    const refused = await h.app.inject({
      method: "PUT",
      url: `/queues/${queue.id}`,
      headers: viewer,
      payload: { alert_threshold: 5 },
    });
    expect(refused.statusCode).toBe(403);
  });

  it("an application's alert_emails: normalized, read back, validated; the alert task reads them", async () => {
    const created = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: admin,
      payload: { ...appBody(), alert_emails: [" Sale@Example.com", "sale@example.com"] },
    });
    expect(created.statusCode).toBe(201);
    const app = created.json<{ id: string; alert_emails: string[] }>();
    expect(app.alert_emails).toEqual(["sale@example.com"]);
    const read = await get(`/applications/${app.id}`, admin);
    expect(read.json<{ alert_emails: string[] }>().alert_emails).toEqual(["sale@example.com"]);
    expect(await h.store.alerts.recipients(app.id)).toEqual(["sale@example.com"]);
    const updated = await h.app.inject({
      method: "PUT",
      url: `/applications/${app.id}`,
      headers: admin,
      payload: { alert_emails: ["ops@example.com", "oncall@example.com"] },
    });
    expect(updated.json<{ alert_emails: string[] }>().alert_emails).toEqual([
      "ops@example.com",
      "oncall@example.com",
    ]);
    expect(await h.store.alerts.recipients(app.id)).toEqual(["ops@example.com", "oncall@example.com"]);
    const listed = (await get("/applications/", admin)).json<{
      items: { id: string; alert_emails: string[] }[];
    }>();
    expect(listed.items.find((a) => a.id === app.id)?.alert_emails).toEqual([
      "ops@example.com",
      "oncall@example.com",
    ]);
    for (const bad of [
      ["not-an-address"],
      [`${"a".repeat(250)}@example.com`],
      Array.from({ length: 21 }, (_, i) => `u${i}@example.com`),
      "ops@example.com",
    ]) {
      const response = await h.app.inject({
        method: "PUT",
        url: `/applications/${app.id}`,
        headers: admin,
        payload: { alert_emails: bad },
      });
      expect(response.statusCode, JSON.stringify(bad).slice(0, 40)).toBe(400);
    }
    const cleared = await h.app.inject({
      method: "PUT",
      url: `/applications/${app.id}`,
      headers: admin,
      payload: { alert_emails: [] },
    });
    expect(cleared.json<{ alert_emails: string[] }>().alert_emails).toEqual([]);
  });
});
