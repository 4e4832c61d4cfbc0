import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appBody, type Harness, PASSWORD, startHarness } from "../helpers/harness.js";

let h: Harness;
let admin: { authorization: string };
let appId: string;
beforeAll(async () => {
  h = await startHarness();
  admin = await h.login("admin@example.com");
  appId = (
    await h.app.inject({ method: "POST", url: "/applications/", headers: admin, payload: appBody() })
  ).json<{
    id: string;
  }>().id;
});
afterAll(() => h.close());

const login = (username: string, password: string) =>
  h.app.inject({
    method: "POST",
    url: "/auth/token",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ grant_type: "password", username, password }).toString(),
  });

describe("users", () => {
  it("an admin creates a user who can then log in, grants and revokes an application", async () => {
    const created = await h.app.inject({
      method: "POST",
      url: "/users/",
      headers: admin,
      payload: { email: "New.Op@Example.com", password: PASSWORD, role: "operator" },
    });
    expect(created.statusCode).toBe(201);
    const user = created.json<{ id: string; email: string }>();
    expect(user).toMatchObject({ email: "new.op@example.com", role: "operator", application_ids: [] });
    expect(created.body).not.toContain("password");
    expect((await login("new.op@example.com", PASSWORD)).statusCode).toBe(200);

    const granted = await h.app.inject({
      method: "POST",
      url: `/users/${user.id}/grants`,
      headers: admin,
      payload: { application_id: appId },
    });
    expect(granted.json()).toMatchObject({ application_ids: [appId] });
    const revoked = await h.app.inject({
      method: "DELETE",
      url: `/users/${user.id}/grants/${appId}`,
      headers: admin,
    });
    expect(revoked.statusCode).toBe(204);
    expect(
      (await h.app.inject({ method: "GET", url: `/users/${user.id}`, headers: admin })).json(),
    ).toMatchObject({
      application_ids: [],
    });
  });

  it("stores passwords as argon2id hashes", async () => {
    const row = await h.store.users.findByEmail("admin@example.com");
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
  });

  it("refuses a duplicate email (409), a short password and a bad role (400)", async () => {
    const duplicate = await h.app.inject({
      method: "POST",
      url: "/users/",
      headers: admin,
      payload: { email: "admin@example.com", password: PASSWORD, role: "viewer" },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ error: { code: "conflict" } });
    const short = await h.app.inject({
      method: "POST",
      url: "/users/",
      headers: admin,
      payload: { email: "short@example.com", password: "short", role: "viewer" },
    });
    expect(short.json()).toMatchObject({ error: { code: "validation_failed", field: "password" } });
    const role = await h.app.inject({
      method: "POST",
      url: "/users/",
      headers: admin,
      payload: { email: "role@example.com", password: PASSWORD, role: "root" },
    });
    expect(role.statusCode).toBe(400);
    expect(role.json()).toMatchObject({ error: { field: "role" } });
  });

  it("changes a role, which applies to existing tokens at once", async () => {
    const token = await h.login("promote@example.com", "viewer");
    const id = await h.userId("promote@example.com");
    expect((await h.app.inject({ method: "GET", url: "/users/", headers: token })).statusCode).toBe(403);
    await h.app.inject({ method: "PUT", url: `/users/${id}`, headers: admin, payload: { role: "admin" } });
    expect((await h.app.inject({ method: "GET", url: "/users/", headers: token })).statusCode).toBe(200);
  });

  it("an admin cannot demote, disable or delete themselves", async () => {
    const id = await h.userId("admin@example.com");
    for (const [method, payload] of [
      ["PUT", { role: "viewer" }],
      ["PUT", { disabled: true }],
      ["DELETE", undefined],
    ] as const) {
      const response = await h.app.inject({
        method,
        url: `/users/${id}`,
        headers: admin,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(409);
    }
  });

  it("a password change ends the sessions opened with the old one", async () => {
    const token = await h.login("changes-password@example.com", "viewer");
    const id = await h.userId("changes-password@example.com");
    expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: token })).statusCode).toBe(200);
    h.clock.advance(2_000);
    const changed = await h.app.inject({
      method: "PUT",
      url: `/users/${id}`,
      headers: admin,
      payload: { password: "a-brand-new-password" },
    });
    expect(changed.statusCode).toBe(200);
    expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: token })).statusCode).toBe(401);
    expect((await login("changes-password@example.com", "a-brand-new-password")).statusCode).toBe(200);
  });

  it("disabling a user ends their sessions for good: re-enabling does not revive an old token", async () => {
    const email = "paused@example.com";
    await h.login(email, "viewer");
    const id = await h.userId(email);
    const issued = await login(email, PASSWORD);
    expect(issued.statusCode).toBe(200);
    const old = { authorization: `Bearer ${issued.json<{ access_token: string }>().access_token}` };
    expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: old })).statusCode).toBe(200);
    h.clock.advance(2_000);
    for (const disabled of [true, false]) {
      const changed = await h.app.inject({
        method: "PUT",
        url: `/users/${id}`,
        headers: admin,
        payload: { disabled },
      });
      expect(changed.statusCode).toBe(200);
      expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: old })).statusCode).toBe(401);
      h.clock.advance(2_000);
    }
    const again = await login(email, PASSWORD);
    expect(again.statusCode).toBe(200);
    const fresh = { authorization: `Bearer ${again.json<{ access_token: string }>().access_token}` };
    expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: fresh })).json()).toMatchObject({
      email,
    });
  });

  it("deleting a user ends their access", async () => {
    const token = await h.login("leaver@example.com", "viewer");
    const id = await h.userId("leaver@example.com");
    expect((await h.app.inject({ method: "DELETE", url: `/users/${id}`, headers: admin })).statusCode).toBe(
      204,
    );
    expect((await h.app.inject({ method: "GET", url: "/auth/me", headers: token })).statusCode).toBe(401);
  });

  it("is admin only: operators and viewers get 403, anonymous callers 401", async () => {
    const operator = await h.login("op@example.com", "operator");
    const viewer = await h.login("view@example.com", "viewer");
    for (const caller of [operator, viewer]) {
      expect((await h.app.inject({ method: "GET", url: "/users/", headers: caller })).statusCode).toBe(403);
      const create = await h.app.inject({
        method: "POST",
        url: "/users/",
        headers: caller,
        payload: { email: "x@example.com", password: PASSWORD, role: "admin" },
      });
      expect(create.statusCode).toBe(403);
    }
    expect((await h.app.inject({ method: "GET", url: "/users/" })).statusCode).toBe(401);
  });
});
