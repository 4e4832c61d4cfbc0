import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
let admin: { authorization: string };
let mine: string;
let theirs: string;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.login("admin@example.com");
  const create = async () =>
    (await h.app.inject({ method: "POST", url: "/applications/", headers: admin, payload: appBody() })).json<{
      id: string;
    }>().id;
  mine = await create();
  theirs = await create();
  for (const email of ["viewer@example.com", "operator@example.com"]) {
    await h.login(email, email.startsWith("viewer") ? "viewer" : "operator");
    await h.app.inject({
      method: "POST",
      url: `/users/${await h.userId(email)}/grants`,
      headers: admin,
      payload: { application_id: mine },
    });
  }
});
afterAll(() => h.close());

const routes = (id: string) =>
  [
    ["GET", "/applications/", undefined],
    ["POST", "/applications/", appBody()],
    ["GET", `/applications/${id}`, undefined],
    ["PUT", `/applications/${id}`, { name: "x" }],
    ["DELETE", `/applications/${id}`, undefined],
    ["POST", `/applications/${id}/rotate-key`, undefined],
    ["POST", `/applications/${id}/rotate-webhook-secret`, undefined],
    ["POST", `/applications/${id}/rotate-publishable-key`, undefined],
  ] as const;

describe("applications: authentication", () => {
  for (const [method, url, payload] of routes("00000000-0000-4000-8000-000000000000")) {
    it(`${method} ${url} without a token is 401`, async () => {
      const response = await h.app.inject({ method, url, ...(payload ? { payload } : {}) });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: "unauthorized" } });
    });
    it(`${method} ${url} with a forged token is 401`, async () => {
      const forged = `${admin.authorization.slice(0, -4)}AAAA`;
      const response = await h.app.inject({
        method,
        url,
        headers: { authorization: forged },
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(401);
    });
  }

  it("an expired token is 401", async () => {
    const fresh = await h.login("late@example.com", "admin");
    h.clock.advance(3601_000);
    try {
      const response = await h.app.inject({ method: "GET", url: "/applications/", headers: fresh });
      expect(response.statusCode).toBe(401);
    } finally {
      h.clock.advance(-3601_000);
    }
  });

  it("a disabled user's token stops working at once", async () => {
    const token = await h.login("soon-disabled@example.com", "operator");
    const id = await h.userId("soon-disabled@example.com");
    await h.app.inject({ method: "PUT", url: `/users/${id}`, headers: admin, payload: { disabled: true } });
    expect((await h.app.inject({ method: "GET", url: "/applications/", headers: token })).statusCode).toBe(
      401,
    );
  });
});

describe("applications: roles and tenants", () => {
  it("a viewer reads a granted application but may not change it (403)", async () => {
    const viewer = await h.login("viewer@example.com", "viewer");
    expect(
      (await h.app.inject({ method: "GET", url: `/applications/${mine}`, headers: viewer })).statusCode,
    ).toBe(200);
    for (const [method, url, payload] of routes(mine).filter(([m]) => m !== "GET")) {
      const response = await h.app.inject({ method, url, headers: viewer, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: "forbidden" } });
    }
  });

  it("an operator updates and rotates a granted application, but may not create or delete (403)", async () => {
    const operator = await h.login("operator@example.com", "operator");
    const update = await h.app.inject({
      method: "PUT",
      url: `/applications/${mine}`,
      headers: operator,
      payload: { name: "Ops" },
    });
    expect(update.statusCode).toBe(200);
    const rotate = await h.app.inject({
      method: "POST",
      url: `/applications/${mine}/rotate-key`,
      headers: operator,
    });
    expect(rotate.statusCode).toBe(200);
    const rotatePublishable = await h.app.inject({
      method: "POST",
      url: `/applications/${mine}/rotate-publishable-key`,
      headers: operator,
    });
    expect(rotatePublishable.statusCode).toBe(200);
    expect(
      (await h.app.inject({ method: "DELETE", url: `/applications/${mine}`, headers: operator })).statusCode,
    ).toBe(403);
    expect(
      (await h.app.inject({ method: "POST", url: "/applications/", headers: operator, payload: appBody() }))
        .statusCode,
    ).toBe(403);
  });

  it("another tenant's application is a 404 for every verb, and absent from lists", async () => {
    const before = await h.store.applications.findById(theirs);
    for (const email of ["viewer@example.com", "operator@example.com"]) {
      const caller = await h.login(email);
      for (const [method, url, payload] of routes(theirs).filter(([, u]) => u.includes(theirs))) {
        const response = await h.app.inject({
          method,
          url,
          headers: caller,
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode, `${email} ${method} ${url}`).toBe(404);
        expect(response.json()).toMatchObject({ error: { code: "not_found" } });
      }
      const list = await h.app.inject({ method: "GET", url: "/applications/", headers: caller });
      expect(list.json<{ items: { id: string }[]; total: number }>()).toMatchObject({ total: 1 });
      expect(list.json<{ items: { id: string }[] }>().items.map((a) => a.id)).toEqual([mine]);
    }
    expect(await h.store.applications.findById(theirs)).toEqual(before);
  });
});

describe("applications: the join limit protects the service, so only an admin sets it", () => {
  it("an operator may not change max_joins_per_second of a granted application (403); an admin may", async () => {
    const operator = await h.login("operator@example.com", "operator");
    const refused = await h.app.inject({
      method: "PUT",
      url: `/applications/${mine}`,
      headers: operator,
      payload: { name: "Ops", max_joins_per_second: 100_000 },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: "forbidden" } });
    expect(await h.store.applications.findById(mine)).toMatchObject({ max_joins_per_second: null });
    const allowed = await h.app.inject({
      method: "PUT",
      url: `/applications/${mine}`,
      headers: admin,
      payload: { max_joins_per_second: 100_000 },
    });
    expect(allowed.json()).toMatchObject({ max_joins_per_second: 100_000 });
  });
});
