import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { releasedIn } from "../helpers/releases.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

interface Health {
  status: string;
  record: string;
  index: string;
  workers: { id: string; host: string; pid: number; last_seen_at: string; status: string }[];
}

async function health(): Promise<Health> {
  const response = await h.app.inject({
    method: "GET",
    url: "/dashboard/summary",
    headers: await h.login("admin@example.com"),
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ health: Health }>().health;
}

describe("dashboard: worker heartbeats", () => {
  it("the running worker loop writes its heartbeat; silent for 60 s, the worker is reported down", async () => {
    expect(await health()).toMatchObject({ status: "degraded", record: "up", index: "up", workers: [] });
    h.room.loop.start();
    const deadline = Date.now() + 5_000;
    while ((await h.store.heartbeats.list()).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [worker] = (await health()).workers;
    expect(worker).toMatchObject({ host: hostname(), pid: process.pid, status: "up" });
    expect((await health()).status).toBe("ok");
    // Stopped, the loop beats no more (it would every 5 s of real time); then a minute passes.
    await h.room.loop.stop();
    h.clock.advance(61_000);
    const silent = await health();
    expect(silent.status).toBe("degraded");
    expect(silent.workers).toEqual([expect.objectContaining({ id: worker?.id, status: "down" })]);
  });
});

describe("dashboard: a failing heartbeat", () => {
  it("never holds up release: the loop logs it and goes on releasing", async () => {
    const f = await startHarness();
    try {
      const site = await createSite(f, { max_users_per_minute: 600 });
      await join(f, site.apiKey, site.queueId, "visitor");
      let attempts = 0;
      f.store.heartbeats.beat = async () => {
        attempts++;
        throw new Error("record unreachable for heartbeats");
      };
      f.room.loop.start();
      const deadline = Date.now() + 5_000;
      while ((await releasedIn(f, site.queueId)).length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(attempts).toBeGreaterThan(0);
      expect(await releasedIn(f, site.queueId)).toHaveLength(1);
      await f.room.loop.stop();
    } finally {
      await f.close();
    }
  });
});
