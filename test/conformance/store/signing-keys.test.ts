import { describe, expect, it } from "vitest";
import { dialects, useStore } from "./dialects.js";
import { at, keyRow } from "./fixtures.js";

describe.each(dialects)("Store conformance, signing keys: $name", (dialect) => {
  const t = useStore(dialect);

  it("lists keys oldest first, whatever order they were inserted in", async () => {
    const { signingKeys } = t.store;
    await signingKeys.insert(keyRow("k2", at(2000)));
    await signingKeys.insert(keyRow("k1", at(1000)));
    await signingKeys.insert(keyRow("k3", at(3000)));
    expect(await signingKeys.list()).toEqual([
      keyRow("k1", at(1000)),
      keyRow("k2", at(2000)),
      keyRow("k3", at(3000)),
    ]);
    await expect(signingKeys.insert(keyRow("k1", at(4000)))).rejects.toThrow();
  });

  it("retires the keys older than a new one, keeps them published, and leaves newer ones alone", async () => {
    const { signingKeys } = t.store;
    await signingKeys.insert({ ...keyRow("old", at(1000)), retired_at: at(1500) });
    await signingKeys.insert(keyRow("previous", at(2000)));
    await signingKeys.insert(keyRow("current", at(3000)));
    await signingKeys.insert(keyRow("newer", at(4000)));
    await signingKeys.retireOlder({ kid: "current", created_at: at(3000) }, at(5000), false);
    const byKid = new Map((await signingKeys.list()).map((row) => [row.kid, row]));
    // An already retired key keeps the time it was retired.
    expect(byKid.get("old")).toMatchObject({ retired_at: at(1500), revoked_at: null });
    expect(byKid.get("previous")).toMatchObject({ retired_at: at(5000), revoked_at: null });
    expect(byKid.get("current")).toMatchObject({ retired_at: null, revoked_at: null });
    expect(byKid.get("newer")).toMatchObject({ retired_at: null, revoked_at: null });
  });

  it("with revoke, also revokes every older key, retired ones included", async () => {
    const { signingKeys } = t.store;
    await signingKeys.insert({ ...keyRow("old", at(1000)), retired_at: at(1500) });
    await signingKeys.insert({ ...keyRow("revoked", at(1200)), retired_at: at(1300), revoked_at: at(1300) });
    await signingKeys.insert(keyRow("previous", at(2000)));
    await signingKeys.insert(keyRow("current", at(3000)));
    await signingKeys.retireOlder({ kid: "current", created_at: at(3000) }, at(5000), true);
    const byKid = new Map((await signingKeys.list()).map((row) => [row.kid, row]));
    expect(byKid.get("old")).toMatchObject({ retired_at: at(1500), revoked_at: at(5000) });
    expect(byKid.get("revoked")).toMatchObject({ retired_at: at(1300), revoked_at: at(1300) });
    expect(byKid.get("previous")).toMatchObject({ retired_at: at(5000), revoked_at: at(5000) });
    expect(byKid.get("current")).toMatchObject({ retired_at: null, revoked_at: null });
  });

  it("breaks a tie on creation time the same way in listing and retiring, so one key stays current", async () => {
    const { signingKeys } = t.store;
    // Two processes each created a first key in the same millisecond, then each retired older ones.
    await signingKeys.insert(keyRow("kB", at(1000)));
    await signingKeys.insert(keyRow("ka", at(1000)));
    const [first, second] = await signingKeys.list();
    if (first === undefined || second === undefined) throw new Error("two keys expected");
    await signingKeys.retireOlder({ kid: first.kid, created_at: at(1000) }, at(2000), false);
    await signingKeys.retireOlder({ kid: second.kid, created_at: at(1000) }, at(2000), false);
    const after = await signingKeys.list();
    expect(after.map((row) => row.kid)).toEqual([first.kid, second.kid]);
    expect(after.map((row) => row.retired_at)).toEqual([at(2000), null]);
  });

  it("reseals a key's private half only if it is still sealed as the caller read it", async () => {
    const { signingKeys } = t.store;
    await signingKeys.insert(keyRow("k1", at(1000)));
    expect(await signingKeys.reseal("k1", "stale", "resealed")).toBe(false);
    expect(await signingKeys.reseal("k1", "sealed-k1", "resealed")).toBe(true);
    expect(await signingKeys.reseal("k1", "sealed-k1", "again")).toBe(false);
    expect(await signingKeys.reseal("nope", "sealed-k1", "x")).toBe(false);
    expect((await signingKeys.list())[0]?.private_jwk_enc).toBe("resealed");
  });
});
