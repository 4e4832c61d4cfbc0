import { describe, expect, it } from "vitest";
import { dialects } from "./dialects.js";

describe.each(dialects)("Store conformance, the store itself: $name", (dialect) => {
  it("migrates an empty database once, in order, and then has nothing pending", async () => {
    const { store, destroy } = await dialect.open({ migrate: false });
    try {
      expect(store.dialect).toBe(dialect.name);
      await store.ping();
      const pending = await store.pendingMigrations();
      expect(pending.length).toBeGreaterThan(0);
      expect(pending).toEqual([...pending].sort());
      expect(await store.migrate()).toEqual(pending);
      expect(await store.pendingMigrations()).toEqual([]);
      expect(await store.migrate()).toEqual([]);
    } finally {
      await destroy();
    }
  });

  it("fails a ping once closed", async () => {
    const { store, destroy } = await dialect.open();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
    // Closing twice is harmless (destroy closes again).
    await destroy();
  });
});
