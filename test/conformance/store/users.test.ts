import { describe, expect, it } from "vitest";
import { UniqueViolation } from "../../../src/store/types.js";
import { dialects, useStore } from "./dialects.js";
import { at, newApplication } from "./fixtures.js";

describe.each(dialects)("Store conformance, users: $name", (dialect) => {
  const t = useStore(dialect);
  const newUser = (email: string) => ({ email, password_hash: `argon2-${email}`, role: "operator" as const });

  it("creates a user, returned and found without its password hash except by email", async () => {
    const { users } = t.store;
    const created = await users.create(newUser("ann@example.com"), at());
    expect(created).toEqual({
      id: expect.any(String),
      email: "ann@example.com",
      role: "operator",
      created_at: at(),
      updated_at: at(),
      disabled_at: null,
      sessions_valid_from: null,
    });
    expect(await users.findById(created.id)).toEqual(created);
    expect(await users.findByEmail("ann@example.com")).toEqual({
      ...created,
      password_hash: "argon2-ann@example.com",
    });
    expect(await users.findById("00000000-0000-4000-8000-000000000000")).toBeUndefined();
    expect(await users.findByEmail("nobody@example.com")).toBeUndefined();
  });

  it("refuses a second user with the same email as a UniqueViolation, and goes on working", async () => {
    const { users } = t.store;
    await users.create(newUser("ann@example.com"), at());
    const again = users.create(newUser("ann@example.com"), at(1));
    await expect(again).rejects.toBeInstanceOf(UniqueViolation);
    await expect(again).rejects.toMatchObject({ constraint: "users.email" });
    // Emails compare exactly in both dialects: another case is another user.
    await users.create(newUser("Ann@example.com"), at(2));
    expect((await users.list({ limit: 10, offset: 0 })).total).toBe(2);
  });

  it("lists users oldest first, a page at a time, with the total", async () => {
    const { users } = t.store;
    // Created out of order, and two at the same instant (ordered by id then).
    const c = await users.create(newUser("c@example.com"), at(3000));
    const a = await users.create(newUser("a@example.com"), at(1000));
    const b1 = await users.create(newUser("b1@example.com"), at(2000));
    const b2 = await users.create(newUser("b2@example.com"), at(2000));
    const [first, second] = [b1, b2].sort((x, y) => (x.id < y.id ? -1 : 1));
    const all = await users.list({ limit: 10, offset: 0 });
    expect(all).toEqual({ items: [a, first, second, c], total: 4 });
    expect(await users.list({ limit: 2, offset: 1 })).toEqual({ items: [first, second], total: 4 });
    expect(await users.list({ limit: 2, offset: 4 })).toEqual({ items: [], total: 4 });
    // Out-of-range pages are clamped: at least one item, never a negative offset.
    expect(await users.list({ limit: 0, offset: -5 })).toEqual({ items: [a], total: 4 });
  });

  it("updates role, password, disabled and sessions, and says undefined for an unknown user", async () => {
    const { users } = t.store;
    const user = await users.create(newUser("ann@example.com"), at());
    const updated = await users.update(
      user.id,
      { role: "viewer", password_hash: "new-hash", disabled_at: at(5), sessions_valid_from: at(5) },
      at(10),
    );
    expect(updated).toEqual({
      ...user,
      role: "viewer",
      disabled_at: at(5),
      sessions_valid_from: at(5),
      updated_at: at(10),
    });
    expect((await users.findByEmail("ann@example.com"))?.password_hash).toBe("new-hash");
    expect((await users.update(user.id, { disabled_at: null }, at(20)))?.disabled_at).toBeNull();
    expect(
      await users.update("00000000-0000-4000-8000-000000000000", { role: "admin" }, at()),
    ).toBeUndefined();
  });

  it("deletes a user with its grants, once", async () => {
    const { users, applications } = t.store;
    const user = await users.create(newUser("ann@example.com"), at());
    const other = await users.create(newUser("bob@example.com"), at());
    const app = await applications.create(newApplication(), at());
    await users.grant(user.id, app.id, at());
    await users.grant(other.id, app.id, at());
    expect(await users.delete(user.id)).toBe(true);
    expect(await users.findById(user.id)).toBeUndefined();
    expect(await users.grants(user.id)).toEqual([]);
    expect(await users.grants(other.id)).toEqual([app.id]);
    expect(await users.delete(user.id)).toBe(false);
    // Its email is free again.
    await users.create(newUser("ann@example.com"), at(1));
  });

  it("grants applications (idempotently, in grant order), revokes them, and hides deleted applications", async () => {
    const { users, applications } = t.store;
    const user = await users.create(newUser("ann@example.com"), at());
    const [first, second, third] = await Promise.all(
      [1, 2, 3].map(() => applications.create(newApplication(), at())),
    );
    if (first === undefined || second === undefined || third === undefined) throw new Error("setup");
    await users.grant(user.id, second.id, at(1));
    await users.grant(user.id, first.id, at(2));
    await users.grant(user.id, third.id, at(3));
    await users.grant(user.id, second.id, at(4));
    expect(await users.grants(user.id)).toEqual([second.id, first.id, third.id]);

    expect(await users.revoke(user.id, first.id)).toBe(true);
    expect(await users.revoke(user.id, first.id)).toBe(false);
    expect(await applications.softDelete(third.id, at(5))).toBe(true);
    expect(await users.grants(user.id)).toEqual([second.id]);
  });
});
