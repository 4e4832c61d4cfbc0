import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, startHarness } from "../helpers/harness.js";
import { joinMany, releasedIn } from "../helpers/releases.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("priority and shared application intake", () => {
  it("serves the higher-priority queue first from the shared intake, each within its own rate", async () => {
    const site = await createSite(
      h,
      { max_users_per_minute: 60, priority: 10, name: "VIP" },
      { max_users_per_minute: 60 },
    );
    const admin = await h.login("admin@example.com");
    const low = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: site.appId, name: "General", max_users_per_minute: 60, priority: 1 },
    });
    const lowId = low.json<{ id: string }>().id;
    await h.room.engine.refresh();
    await joinMany(h, site.apiKey, site.queueId, "vip", 30);
    await joinMany(h, site.apiKey, lowId, "general", 100);
    for (let elapsed = 0; elapsed < 60_000; elapsed += 100) {
      await h.room.engine.releaseDue();
      h.clock.advance(100);
    }
    // One minute at 60 a minute: the VIP queue's 30 go first, the rest of the intake goes to General.
    const vip = (await releasedIn(h, site.queueId)).length;
    const general = (await releasedIn(h, lowId)).length;
    expect(vip).toBe(30);
    expect(general).toBeGreaterThanOrEqual(29);
    expect(vip + general).toBeLessThanOrEqual(61);
    const firstGeneral = (await releasedIn(h, lowId))[0];
    const lastVip = (await releasedIn(h, site.queueId)).at(-1);
    expect(Date.parse(firstGeneral?.released_at ?? "")).toBeGreaterThan(
      Date.parse(lastVip?.released_at ?? ""),
    );
  });

  it("without a shared intake, queues release at their own rates independently", async () => {
    const site = await createSite(h, { max_users_per_minute: 60, priority: 10 });
    const admin = await h.login("admin@example.com");
    const other = await h.app.inject({
      method: "POST",
      url: "/queues/",
      headers: admin,
      payload: { application_id: site.appId, name: "Other", max_users_per_minute: 30, priority: 1 },
    });
    const otherId = other.json<{ id: string }>().id;
    await h.room.engine.refresh();
    await joinMany(h, site.apiKey, site.queueId, "ind-a", 100);
    await joinMany(h, site.apiKey, otherId, "ind-b", 100);
    for (let elapsed = 0; elapsed < 60_000; elapsed += 100) {
      await h.room.engine.releaseDue();
      h.clock.advance(100);
    }
    expect((await releasedIn(h, site.queueId)).length).toBeGreaterThanOrEqual(60);
    expect((await releasedIn(h, site.queueId)).length).toBeLessThanOrEqual(61);
    expect((await releasedIn(h, otherId)).length).toBeGreaterThanOrEqual(30);
    expect((await releasedIn(h, otherId)).length).toBeLessThanOrEqual(31);
  });
});
