import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
let auth: { authorization: string };
let appId: string;
beforeAll(async () => {
  h = await startHarness();
  auth = await h.login("admin@example.com");
  const created = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: auth,
    payload: appBody(),
  });
  appId = created.json<{ id: string }>().id;
});
afterAll(() => h.close());

describe("applications: bad input is a 400 naming the field, and stores nothing", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["missing name", { domain: "a.com", callback_url: "https://a.com/cb" }, "name"],
    ["empty name", { ...appBody(), name: "" }, "name"],
    ["name of the wrong type", { ...appBody(), name: 42 }, "name"],
    ["a domain that is not a host name", { ...appBody(), domain: "not a domain!" }, "domain"],
    ["missing callback_url", { name: "x", domain: "a.com" }, "callback_url"],
    ["callback_url not a URL", { ...appBody(), callback_url: "nope" }, "callback_url"],
    ["callback_url with another scheme", { ...appBody(), callback_url: "ftp://a.com/x" }, "callback_url"],
    ["callback_url with credentials", { ...appBody(), callback_url: "https://u:p@a.com/x" }, "callback_url"],
    ["an unknown field", { ...appBody(), colour: "blue" }, "colour"],
    ["a NUL character in the name", { ...appBody(), name: "bad\u0000name" }, "name"],
    ["a shared rate of zero", { ...appBody(), max_users_per_minute: 0 }, "max_users_per_minute"],
  ];
  for (const [title, payload, field] of cases) {
    it(`create with ${title}`, async () => {
      const before = await h.store.applications.list("all", { limit: 500, offset: 0 });
      const response = await h.app.inject({ method: "POST", url: "/applications/", headers: auth, payload });
      expect(response.statusCode).toBe(400);
      const body = response.json<{
        error: { code: string; field: string; message: string; request_id: string };
      }>();
      expect(body.error.field).toBe(field);
      expect(body.error.message).toContain(field);
      expect(body.error.request_id).toBe(response.headers["x-request-id"]);
      expect(["validation_failed", "invalid_callback_url"]).toContain(body.error.code);
      expect((await h.store.applications.list("all", { limit: 500, offset: 0 })).total).toBe(before.total);
    });
  }

  it("update with no fields", async () => {
    const response = await h.app.inject({
      method: "PUT",
      url: `/applications/${appId}`,
      headers: auth,
      payload: {},
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed" } });
  });

  it("update with a bad field leaves the stored application unchanged", async () => {
    const response = await h.app.inject({
      method: "PUT",
      url: `/applications/${appId}`,
      headers: auth,
      payload: { name: "ok", domain: "bad domain" },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { field: "domain" } });
    expect((await h.store.applications.findById(appId))?.name).toBe("Shop");
  });

  it("an id that is not a UUID", async () => {
    const response = await h.app.inject({ method: "GET", url: "/applications/123", headers: auth });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: "id" } });
  });

  it("a body that is not JSON", async () => {
    const response = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: { ...auth, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: "body" } });
  });

  it("a body of another media type", async () => {
    const response = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: { ...auth, "content-type": "text/plain" },
      payload: "hello",
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ error: { code: "unsupported_media_type" } });
  });

  it.each(["urn:uuid:00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-00000000000A"])(
    "an id %s in a form the service never issues is a 400, not a database error",
    async (id) => {
      const response = await h.app.inject({
        method: "GET",
        url: `/applications/${encodeURIComponent(id)}`,
        headers: auth,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: "validation_failed", field: "id" } });
    },
  );

  it("an offset too large to be real is a 400", async () => {
    const response = await h.app.inject({
      method: "GET",
      url: "/applications?offset=100000000000000000000",
      headers: auth,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { field: "offset" } });
  });

  it("a limit out of range", async () => {
    const response = await h.app.inject({ method: "GET", url: "/applications?limit=0", headers: auth });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { field: "limit" } });
  });

  it("an unknown id is a 404", async () => {
    const response = await h.app.inject({
      method: "GET",
      url: "/applications/00000000-0000-4000-8000-000000000000",
      headers: auth,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});

describe("applications: a bad join limit is a 400 naming it", () => {
  for (const value of [0, -1, 1.5, "5", 1_000_001, true]) {
    it(`max_joins_per_second: ${JSON.stringify(value)}`, async () => {
      for (const [method, url] of [
        ["POST", "/applications/"],
        ["PUT", `/applications/${appId}`],
      ] as const) {
        const response = await h.app.inject({
          method,
          url,
          headers: auth,
          payload: { ...(method === "POST" ? appBody() : {}), max_joins_per_second: value },
        });
        expect(response.statusCode, method).toBe(400);
        expect(response.json()).toMatchObject({
          error: { code: "validation_failed", field: "max_joins_per_second" },
        });
      }
      expect((await h.store.applications.findById(appId))?.max_joins_per_second).toBeNull();
    });
  }
});

describe("applications: a bad origin_policy or frame_ancestors is a 400 naming it", () => {
  const origins = (n: number) => Array.from({ length: n }, (_, i) => `https://a${i}.example.com`).join(" ");
  const cases: [string, unknown][] = [
    ["origin_policy", "anywhere"],
    ["origin_policy", null],
    ["origin_policy", 1],
    ["frame_ancestors", ""],
    ["frame_ancestors", " "],
    ["frame_ancestors", "*"],
    ["frame_ancestors", "https://*.example.com"],
    ["frame_ancestors", "http://cms.example.com"],
    ["frame_ancestors", "https://cms.example.com/path"],
    ["frame_ancestors", "https://cms.example.com/"],
    ["frame_ancestors", "https://user@cms.example.com"],
    ["frame_ancestors", "https://cms.example.com:99999"],
    ["frame_ancestors", "cms.example.com"],
    ["frame_ancestors", "'self'; script-src 'unsafe-inline'"],
    ["frame_ancestors", "'unsafe-inline'"],
    ["frame_ancestors", "'SELF'"],
    ["frame_ancestors", "data:"],
    ["frame_ancestors", "https://a.example.com,https://b.example.com"],
    ["frame_ancestors", "https://a.example.com\thttps://b.example.com"],
    ["frame_ancestors", "'none' https://a.example.com"],
    ["frame_ancestors", `https://${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.example.com`],
    ["frame_ancestors", origins(17)],
    ["frame_ancestors", 42],
  ];
  for (const [field, value] of cases) {
    it(`${field}: ${JSON.stringify(value)?.slice(0, 60)}`, async () => {
      for (const [method, url] of [
        ["POST", "/applications/"],
        ["PUT", `/applications/${appId}`],
      ] as const) {
        const response = await h.app.inject({
          method,
          url,
          headers: auth,
          payload: { ...(method === "POST" ? appBody() : {}), [field]: value },
        });
        expect(response.statusCode, method).toBe(400);
        expect(response.json()).toMatchObject({ error: { code: "validation_failed", field } });
      }
      expect(await h.store.applications.findById(appId)).toMatchObject({
        origin_policy: "domain",
        frame_ancestors: null,
      });
    });
  }

  it("16 origins are enough", async () => {
    const response = await h.app.inject({
      method: "POST",
      url: "/applications/",
      headers: auth,
      payload: { ...appBody(), frame_ancestors: origins(16) },
    });
    expect(response.statusCode).toBe(201);
  });
});
