import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, verifySignature } from "../../src/worker/callbacks/signature.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { Receiver } from "../helpers/receiver.js";

let h: Harness;
let receiver: Receiver;
let url: string;
beforeAll(async () => {
  receiver = new Receiver();
  url = await receiver.start();
  h = await startHarness({
    room: { retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, random: () => 0.5 },
  });
});
afterAll(async () => {
  await h.close();
  await receiver.stop();
});

describe("release callbacks", () => {
  it("are signed, carry the release, and are retried with backoff until the site accepts them", async () => {
    receiver.received.length = 0;
    receiver.answer = (n) => (n === 1 ? 500 : 200);
    const site = await createSite(h, { max_users_per_minute: 60 }, { callback_url: url });
    await join(h, site.apiKey, site.queueId, "visitor-1");
    await h.room.engine.releaseDue();

    expect(await h.room.dispatcher.dispatchDue()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const [entry] = await h.store.outbox.forQueue(site.queueId);
    expect(entry).toMatchObject({ status: "pending", attempts: 1, last_status: 500 });
    // Not due yet: the first retry waits 750-1000 ms (base 1 s, equal jitter).
    expect(await h.room.dispatcher.dispatchDue()).toBe(0);
    h.clock.advance(1_000);
    expect(await h.room.dispatcher.dispatchDue()).toBe(1);
    expect(receiver.received).toHaveLength(2);
    expect((await h.store.outbox.forQueue(site.queueId))[0]).toMatchObject({
      status: "delivered",
      attempts: 2,
    });

    const delivered = receiver.received[1];
    if (delivered === undefined) throw new Error("nothing received");
    const body = JSON.parse(delivered.body) as Record<string, string>;
    const ticket = await h.store.tickets.findBySeq(site.queueId, 1);
    expect(body).toEqual({
      event: "visitor.released",
      event_id: entry?.id,
      queue_id: site.queueId,
      visitor_id: "visitor-1",
      access_token: ticket?.access_token,
      released_at: ticket?.released_at,
    });
    const signature = String(delivered.headers[SIGNATURE_HEADER]);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(site.webhookSecret, delivered.body, signature, h.clock.now() / 1000)).toBe(true);
    expect(verifySignature("whsec_other", delivered.body, signature, h.clock.now() / 1000)).toBe(false);
    expect(delivered.headers["x-anteroom-event-id"]).toBe(entry?.id);
  });

  it("are signed with the new webhook secret once it is rotated", async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const site = await createSite(h, { max_users_per_minute: 60 }, { callback_url: url });
    const admin = await h.login("admin@example.com");
    const rotated = await h.app.inject({
      method: "POST",
      url: `/applications/${site.appId}/rotate-webhook-secret`,
      headers: admin,
    });
    expect(rotated.statusCode).toBe(200);
    const { webhook_secret: secret } = rotated.json<{ webhook_secret: string }>();
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(site.webhookSecret);
    await join(h, site.apiKey, site.queueId, "after-rotation");
    await h.room.engine.releaseDue();
    expect(await h.room.dispatcher.dispatchDue()).toBe(1);
    const delivered = receiver.received[0];
    if (delivered === undefined) throw new Error("nothing received");
    const signature = String(delivered.headers[SIGNATURE_HEADER]);
    const now = h.clock.now() / 1000;
    expect(verifySignature(secret, delivered.body, signature, now)).toBe(true);
    expect(verifySignature(site.webhookSecret, delivered.body, signature, now)).toBe(false);
  });

  it("are dead-lettered after the last retry, as a callback error", async () => {
    receiver.received.length = 0;
    receiver.answer = () => 503;
    const site = await createSite(h, { max_users_per_minute: 60 }, { callback_url: url });
    await join(h, site.apiKey, site.queueId, "unlucky");
    await h.room.engine.releaseDue();
    for (let attempt = 0; attempt < 5; attempt++) {
      await h.room.dispatcher.dispatchDue();
      h.clock.advance(60_000);
    }
    expect(receiver.received).toHaveLength(3);
    const [entry] = await h.store.outbox.forQueue(site.queueId);
    expect(entry).toMatchObject({ status: "dead", attempts: 3, last_status: 503 });
    const errors = await h.store.outbox.errors({ applicationIds: [site.appId], limit: 10 });
    expect(errors).toEqual([
      expect.objectContaining({
        event_id: entry?.id,
        queue_id: site.queueId,
        url,
        attempts: 3,
        last_status: 503,
      }),
    ]);
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(`callback_failure_total{queue="${site.queueId}",final="true"} 1`);
    expect(metrics).toContain(`callback_failure_total{queue="${site.queueId}",final="false"} 2`);
  });

  it("of a deleted application are dead-lettered at their first attempt, with nothing sent", async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const site = await createSite(h, { max_users_per_minute: 60 }, { callback_url: url });
    await join(h, site.apiKey, site.queueId, "orphan");
    await h.room.engine.releaseDue();
    const admin = await h.login("admin@example.com");
    const deleted = await h.app.inject({
      method: "DELETE",
      url: `/applications/${site.appId}`,
      headers: admin,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await h.room.dispatcher.dispatchDue()).toBe(1);
    expect(receiver.received).toHaveLength(0);
    const [entry] = await h.store.outbox.forQueue(site.queueId);
    expect(entry).toMatchObject({ status: "dead", attempts: 1, last_error: "application deleted" });
  });

  it("are refused at delivery when the callback host is private and private callbacks are not allowed", async () => {
    const strict = await startHarness({ allowPrivateCallbacks: false });
    try {
      // Saved while allowed (or when the name pointed elsewhere), now pointing at loopback.
      const site = await createSite(
        strict,
        { max_users_per_minute: 60 },
        { callback_url: "https://shop.example.com/cb" },
      );
      await strict.store.db
        .updateTable("applications")
        .set({ callback_url: url })
        .where("id", "=", site.appId)
        .execute();
      strict.room.events.applicationChanged(site.appId);
      receiver.received.length = 0;
      await join(strict, site.apiKey, site.queueId, "v");
      await strict.room.engine.releaseDue();
      await strict.room.dispatcher.dispatchDue();
      expect(receiver.received).toHaveLength(0);
      const [entry] = await strict.store.outbox.forQueue(site.queueId);
      expect(entry?.last_error).toMatch(/private|non-public|loopback/);
    } finally {
      await strict.close();
    }
  });

  it("are refused when saving a private callback URL unless allowed", async () => {
    const strict = await startHarness({ allowPrivateCallbacks: false });
    try {
      const admin = await strict.login("admin@example.com");
      const response = await strict.app.inject({
        method: "POST",
        url: "/applications/",
        headers: admin,
        payload: { name: "x", domain: "x.example.com", callback_url: url },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        error: { code: "invalid_callback_url", field: "callback_url" },
      });
    } finally {
      await strict.close();
    }
  });
});

describe("callback leases", () => {
  it("an attempt that outlives its lease cannot overwrite the outcome of the worker that took over", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 }, { callback_url: url });
    await join(h, site.apiKey, site.queueId, "leased");
    await h.room.engine.releaseDue();
    const at = (offset: number) => new Date(h.clock.now() + offset).toISOString();
    const [first] = await h.store.outbox.claimDue(at(0), at(1_000), 10);
    expect(first).toBeDefined();
    expect(await h.store.outbox.claimDue(at(500), at(1_500), 10)).toEqual([]); // still leased
    const [second] = await h.store.outbox.claimDue(at(2_000), at(62_000), 10); // lease over: taken over
    expect(second?.id).toBe(first?.id);
    if (first === undefined) return;
    expect(await h.store.outbox.markDelivered(first.id, at(62_000), 1, 200, at(2_100))).toBe(true);
    expect(await h.store.outbox.markDead(first, at(1_000), 1, url, "late failure", 500, at(2_200))).toBe(
      false,
    );
    expect((await h.store.outbox.forQueue(site.queueId))[0]).toMatchObject({ status: "delivered" });
    expect(await h.store.outbox.errors({ applicationIds: [site.appId], limit: 10 })).toEqual([]);
  });
});

describe("simulation mode", () => {
  it("behaves like a live queue but sends nothing, recording what it would have sent; metrics kept apart", async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const site = await createSite(h, { max_users_per_minute: 60, mode: "simulation" }, { callback_url: url });
    const first = await join(h, site.apiKey, site.queueId, "sim-1");
    await join(h, site.apiKey, site.queueId, "sim-2");
    expect(first).toMatchObject({ status: "waiting", position: 1 });
    await h.room.engine.releaseDue();
    await h.room.dispatcher.dispatchDue();
    h.clock.advance(60_000);
    await h.room.dispatcher.dispatchDue();
    expect(receiver.received).toHaveLength(0);
    const outbox = await h.store.outbox.forQueue(site.queueId);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]?.status).toBe("simulated");
    expect(JSON.parse(outbox[0]?.payload ?? "{}")).toMatchObject({
      event: "visitor.released",
      visitor_id: "sim-1",
    });
    const metrics = (await h.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(`queue_users_released_total{queue="${site.queueId}",mode="simulation"} 1`);
    expect(metrics).toContain(`queue_users_joined_total{queue="${site.queueId}",mode="simulation"} 2`);
    expect(metrics).toContain(`queue_size{queue="${site.queueId}",mode="simulation"} 1`);
    expect(metrics).not.toContain(`queue_users_released_total{queue="${site.queueId}",mode="live"}`);
  });
});

describe("metrics", () => {
  it("exposes the seed's metrics in Prometheus text format", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    await join(h, site.apiKey, site.queueId, "m1");
    await join(h, site.apiKey, site.queueId, "m2");
    await h.room.engine.releaseDue();
    const response = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(response.headers["content-type"]).toContain("text/plain");
    for (const name of [
      "queue_users_released_total",
      "queue_users_expired_total",
      "callback_success_total",
      "callback_failure_total",
      "queue_size",
      "callback_duration_seconds",
      "queue_users_joined_total",
      "http_request_duration_seconds",
    ]) {
      expect(response.body).toContain(`# TYPE ${name}`);
    }
    expect(response.body).toContain(`queue_size{queue="${site.queueId}",mode="live"} 1`);
    expect(response.body).toContain(`queue_users_released_total{queue="${site.queueId}",mode="live"} 1`);
    expect(response.body).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/join",status_code="200"\} \d+/,
    );
  });

  it("caps the queue label's cardinality", async () => {
    const { Metrics } = await import("../../src/observability/metrics.js");
    const metrics = new Metrics(2);
    expect(metrics.queue("a")).toBe("a");
    expect(metrics.queue("b")).toBe("b");
    expect(metrics.queue("c")).toBe("other");
    expect(metrics.queue("a")).toBe("a");
  });
});
