import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VisitorDirectory } from "../../src/services/directory.js";
import type { Store } from "../../src/store/types.js";
import { createSite, type Harness, startHarness } from "../helpers/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** The real record, with the key lookup's answer held back until `open()` (a slow read in flight). */
function slowKeyLookups(store: Store) {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const applications = Object.create(store.applications, {
    findByApiKeyHash: {
      value: async (hash: string) => {
        const found = await store.applications.findByApiKeyHash(hash);
        await gate;
        return found;
      },
    },
  }) as Store["applications"];
  return { store: { ...store, applications, queues: store.queues } as Store, open: () => open() };
}

describe("the API key cache", () => {
  it("does not keep a lookup that was in flight when the key was rotated", async () => {
    const site = await createSite(h);
    const slow = slowKeyLookups(h.store);
    const directory = new VisitorDirectory(slow.store, h.clock);
    const inFlight = directory.applicationForKey(site.apiKey); // read the old key's row, not answered yet
    const admin = await h.login("admin@example.com");
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${site.appId}/rotate-key`,
      headers: admin,
    });
    expect(rotated.statusCode).toBe(200);
    directory.applicationChanged(); // what the rotation's change event does in every process
    slow.open();
    expect((await inFlight)?.id).toBe(site.appId); // that request began before the rotation
    expect(await directory.applicationForKey(site.apiKey)).toBeNull(); // but nothing after it
  });
});
