import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iso } from "../../src/domain/time.js";
import { createSite, type Harness, join, startHarness } from "../helpers/harness.js";
import { releasedIn } from "../helpers/releases.js";

/** Late on the last day of 2029 (UTC): the test crosses midnight, so "today" starts in the middle of it. */
const START = Date.UTC(2029, 11, 31, 23, 50);
const MIDNIGHT = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

let h: Harness;
// Fresh tokens each time: the test moves the clock by hours, past a token's lifetime.
const admin = () => h.login("admin@example.com");
const operator = () => h.login("operator@example.com", "operator");
const viewer = () => h.login("viewer@example.com", "viewer");
let mine: Awaited<ReturnType<typeof createSite>>;
let theirs: Awaited<ReturnType<typeof createSite>>;

interface Summary {
  applications: number;
  queues: number;
  waiting: number;
  released: { last_hour: number; today: number };
  expired_today: Record<string, number>;
  callbacks: { failed_today: number; dead_letters: number };
  health: { status: string; record: string; index: string; workers: { id: string; status: string }[] };
  day_started_at: string;
}

interface Stats {
  queue_id: string;
  waiting: number;
  configured_rate_per_minute: number;
  measured_rate_per_minute: number;
  released_last_minute: number;
  joined_total: number;
  oldest_waiting_joined_at: string | null;
  longest_wait_seconds: number;
  estimated_drain_seconds: number | null;
  admitted_active: number;
  callbacks: { pending: number; failed: number };
}

async function get<T>(url: string, headers: { authorization: string }) {
  const response = await h.app.inject({ method: "GET", url, headers });
  return { status: response.statusCode, body: response.json<T>() };
}

/** Release rounds, a minute apart, until `count` more visitors of the queue were released. */
async function release(queueId: string, count: number): Promise<void> {
  const target = (await releasedIn(h, queueId)).length + count;
  for (let round = 0; round < 100 && (await releasedIn(h, queueId)).length < target; round++) {
    h.clock.advance(MINUTE);
    await h.room.engine.releaseDue();
  }
  expect((await releasedIn(h, queueId)).length).toBeGreaterThanOrEqual(target);
}

/** A real outbox entry of the queue, dead-lettered as the dispatcher does after its last attempt. */
async function deadLetter(appId: string, queueId: string): Promise<string> {
  const now = iso(h.clock.now());
  const lease = iso(h.clock.now() + MINUTE);
  const entries = await h.store.outbox.claimDue(now, lease, 100);
  const entry = entries.find((e) => e.queue_id === queueId && e.application_id === appId);
  if (entry === undefined) throw new Error("no pending callback to dead-letter");
  expect(
    await h.store.outbox.markDead(entry, lease, 3, "http://127.0.0.1:9/callback", "HTTP 503", 503, now),
  ).toBe(true);
  const [error] = (await h.store.dashboard.listDeadLetters({ visible: [appId] }, { limit: 1, offset: 0 }))
    .items;
  if (error === undefined) throw new Error("no dead letter");
  return error.id;
}

beforeAll(async () => {
  h = await startHarness();
  h.clock.set(START);
  mine = await createSite(h, { max_users_per_minute: 1 });
  theirs = await createSite(h, { max_users_per_minute: 1 });
  await operator();
  await viewer();
  for (const email of ["operator@example.com", "viewer@example.com"]) {
    await h.app.inject({
      method: "POST",
      url: `/users/${await h.userId(email)}/grants`,
      headers: await admin(),
      payload: { application_id: mine.appId },
    });
  }
  for (let i = 0; i < 8; i++) await join(h, mine.apiKey, mine.queueId, `mine-${i}`);
  for (let i = 0; i < 3; i++) await join(h, theirs.apiKey, theirs.queueId, `theirs-${i}`);
});
afterAll(() => h.close());

describe("dashboard: summary", () => {
  it("counts waiting, releases in the last hour and today (UTC), over what the caller may see", async () => {
    await release(mine.queueId, 1); // yesterday
    h.clock.set(MIDNIGHT + 10 * MINUTE);
    await release(mine.queueId, 2); // today, more than an hour before the reading
    h.clock.set(MIDNIGHT + 90 * MINUTE);
    await release(mine.queueId, 1); // in the last hour (release rounds serve every queue: theirs too)
    await h.store.heartbeats.beat(
      { id: "worker-up", host: "w1", pid: 1, started_at: iso(START) },
      iso(h.clock.now() - 5_000),
    );
    await h.store.heartbeats.beat(
      { id: "worker-silent", host: "w2", pid: 2, started_at: iso(START) },
      iso(h.clock.now() - 61_000),
    );

    const now = h.clock.now();
    const times = (await releasedIn(h, mine.queueId)).map((row) => Date.parse(String(row.released_at)));
    const theirTimes = (await releasedIn(h, theirs.queueId)).map((row) =>
      Date.parse(String(row.released_at)),
    );
    const today = times.filter((t) => t >= MIDNIGHT).length;
    const lastHour = times.filter((t) => t >= now - 60 * MINUTE).length;
    expect(lastHour).toBeGreaterThan(0);
    expect(today).toBeGreaterThan(lastHour);
    expect(times.length).toBeGreaterThan(today);

    const asOperator = await get<Summary>("/dashboard/summary", await operator());
    expect(asOperator.status).toBe(200);
    expect(asOperator.body).toMatchObject({
      applications: 1,
      queues: 1,
      waiting: 8 - times.length,
      released: { last_hour: lastHour, today },
      expired_today: { abandoned: 0, not_seen: 0, admission_ended: 0 },
      callbacks: { failed_today: 0, dead_letters: 0 },
      day_started_at: iso(MIDNIGHT),
    });
    expect(asOperator.body.health).toMatchObject({ status: "ok", record: "up", index: "up" });
    expect(asOperator.body.health.workers).toEqual([
      expect.objectContaining({ id: "worker-up", status: "up" }),
      expect.objectContaining({ id: "worker-silent", status: "down" }),
    ]);
    // Where workers run is for admins only: a tenant's operator sees their health, not the hosts.
    expect(JSON.stringify(asOperator.body.health.workers)).not.toMatch(/"host"|"pid"/);
    const adminView = await get<Summary>("/dashboard/summary", await admin());
    expect(adminView.body.health.workers).toEqual([
      expect.objectContaining({ id: "worker-up", host: "w1", pid: 1 }),
      expect.objectContaining({ id: "worker-silent", host: "w2", pid: 2 }),
    ]);

    const asAdmin = await get<Summary>("/dashboard/summary", await admin());
    expect(asAdmin.body).toMatchObject({
      applications: 2,
      queues: 2,
      waiting: 8 - times.length + 3 - theirTimes.length,
      released: {
        last_hour: lastHour + theirTimes.filter((t) => t >= now - 60 * MINUTE).length,
        today: today + theirTimes.filter((t) => t >= MIDNIGHT).length,
      },
    });
    expect((await get<Summary>("/dashboard/summary", await viewer())).body.queues).toBe(1);
  });

  it("counts today's expiries by reason and today's dead letters", async () => {
    const before = (await get<Summary>("/dashboard/summary", await operator())).body;
    const waitingBefore = before.waiting;
    const admitted = (await h.store.dashboard.activeAdmitted([mine.queueId])).get(mine.queueId) ?? 0;
    const id = await deadLetter(mine.appId, mine.queueId);
    h.clock.advance(20 * MINUTE); // past abandon_after (300 s) and release_ttl (600 s)
    await h.room.engine.expire();
    const after = (await get<Summary>("/dashboard/summary", await operator())).body;
    expect(after.waiting).toBe(0);
    expect(after.expired_today).toEqual({ abandoned: waitingBefore, not_seen: admitted, admission_ended: 0 });
    expect(after.callbacks).toEqual({ failed_today: 1, dead_letters: 1 });
    expect(after.health.status).toBe("degraded"); // no worker heard from in 60 s any more
    expect(after.health.workers.every((worker) => worker.status === "down")).toBe(true);
    expect(
      (
        await h.app.inject({
          method: "DELETE",
          url: `/dashboard/callback_errors/${id}`,
          headers: await admin(),
        })
      ).statusCode,
    ).toBe(204);
  });

  it("needs a bearer token", async () => {
    const response = await h.app.inject({ method: "GET", url: "/dashboard/summary" });
    expect(response.statusCode).toBe(401);
  });
});

describe("dashboard: queue stats", () => {
  it("gives each queue its line, rates, longest wait, time to drain, admitted visitors and callbacks", async () => {
    const before = await get<{ items: Stats[] }>(
      `/dashboard/queue_stats?app_id=${mine.appId}`,
      await viewer(),
    );
    const joinedBefore = before.body.items[0]?.joined_total ?? Number.NaN;
    for (let i = 0; i < 4; i++) await join(h, mine.apiKey, mine.queueId, `later-${i}`);
    const joinedAt = h.clock.now();
    h.clock.advance(30_000);
    await release(mine.queueId, 2);
    const now = h.clock.now();
    const recent = (await releasedIn(h, mine.queueId)).filter(
      (row) => Date.parse(String(row.released_at)) >= now - 5 * MINUTE,
    ).length;
    const pending = (await h.store.outbox.forQueue(mine.queueId)).filter(
      (e) => e.status === "pending",
    ).length;
    const { status, body } = await get<{ application_id: string; items: Stats[] }>(
      `/dashboard/queue_stats?app_id=${mine.appId}`,
      await viewer(),
    );
    expect(status).toBe(200);
    expect(body.application_id).toBe(mine.appId);
    expect(body.items).toHaveLength(1);
    const [stats] = body.items;
    const waiting = 4 - recent;
    expect(stats).toEqual({
      queue_id: mine.queueId,
      name: "Main",
      mode: "live",
      waiting,
      configured_rate_per_minute: 1,
      measured_rate_per_minute: recent / 5,
      released_last_minute: (await releasedIn(h, mine.queueId)).filter(
        (row) => Date.parse(String(row.released_at)) >= now - MINUTE,
      ).length,
      joined_total: joinedBefore + 4,
      oldest_waiting_joined_at: iso(joinedAt),
      longest_wait_seconds: Math.floor((now - joinedAt) / 1000),
      estimated_drain_seconds: Math.ceil((waiting / (recent / 5)) * 60),
      admitted_active: recent,
      callbacks: { pending, failed: 0 },
    });
    expect(pending).toBeGreaterThan(0);
  });

  it("is a 404 for another tenant's application and for one that does not exist; 400 on bad input", async () => {
    const theirs404 = await get<{ error: { code: string } }>(
      `/dashboard/queue_stats?app_id=${theirs.appId}`,
      await operator(),
    );
    expect(theirs404).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect((await get(`/dashboard/queue_stats?app_id=${theirs.appId}`, await admin())).status).toBe(200);
    const missing = await get<{ error: { code: string } }>(
      "/dashboard/queue_stats?app_id=00000000-0000-4000-8000-000000000000",
      await admin(),
    );
    expect(missing).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    for (const url of [
      "/dashboard/queue_stats",
      "/dashboard/queue_stats?app_id=nope",
      `/dashboard/queue_stats?app_id=${"a".repeat(5000)}`,
    ]) {
      const bad = await get<{ error: { code: string } }>(url, await admin());
      expect(bad, url).toMatchObject({ status: 400, body: { error: { code: "validation_failed" } } });
    }
  });
});

describe("dashboard: callback errors", () => {
  it("lists dead letters with attempts, status, error and times, paged, tenant-scoped", async () => {
    const mineError = await deadLetter(mine.appId, mine.queueId);
    await join(h, theirs.apiKey, theirs.queueId, "theirs-late");
    await release(theirs.queueId, 1);
    const theirError = await deadLetter(theirs.appId, theirs.queueId);
    type List = { items: { id: string; attempts: number; last_status: number | null }[]; total: number };
    const asOperator = await get<List>("/dashboard/callback_errors", await operator());
    expect(asOperator.status).toBe(200);
    expect(asOperator.body.items.map((item) => item.id)).toEqual([mineError]);
    expect(asOperator.body.items[0]).toMatchObject({
      application_id: mine.appId,
      queue_id: mine.queueId,
      attempts: 3,
      last_status: 503,
      last_error: "HTTP 503",
      url: "http://127.0.0.1:9/callback",
    });
    const all = await get<List>("/dashboard/callback_errors?limit=1", await admin());
    expect(all.body.total).toBe(2);
    expect(all.body.items).toHaveLength(1);
    const second = await get<List>("/dashboard/callback_errors?limit=1&offset=1", await admin());
    expect([...all.body.items, ...second.body.items].map((item) => item.id).sort()).toEqual(
      [mineError, theirError].sort(),
    );
    expect(
      (await get<List>(`/dashboard/callback_errors?app_id=${theirs.appId}`, await admin())).body.total,
    ).toBe(1);
    expect((await get(`/dashboard/callback_errors?app_id=${theirs.appId}`, await operator())).status).toBe(
      404,
    );
    for (const url of ["/dashboard/callback_errors?limit=0", "/dashboard/callback_errors?app_id=x"]) {
      const bad = await get<{ error: { code: string } }>(url, await admin());
      expect(bad, url).toMatchObject({ status: 400, body: { error: { code: "validation_failed" } } });
    }
  });

  it("retries a dead letter with fresh attempts (operator, admin), discards one; viewer 403, other tenant 404", async () => {
    const [mineError] = (
      await h.store.dashboard.listDeadLetters({ visible: [mine.appId] }, { limit: 1, offset: 0 })
    ).items;
    const [theirError] = (
      await h.store.dashboard.listDeadLetters({ visible: [theirs.appId] }, { limit: 1, offset: 0 })
    ).items;
    if (mineError === undefined || theirError === undefined) throw new Error("dead letters expected");
    const post = (id: string, headers: { authorization: string }) =>
      h.app.inject({ method: "POST", url: `/dashboard/callback_errors/${id}/retry`, headers });
    const del = (id: string, headers: { authorization: string }) =>
      h.app.inject({ method: "DELETE", url: `/dashboard/callback_errors/${id}`, headers });

    expect((await post(mineError.id, await viewer())).json()).toMatchObject({ error: { code: "forbidden" } });
    expect((await del(mineError.id, await viewer())).statusCode).toBe(403);
    expect((await post(theirError.id, await operator())).json()).toMatchObject({
      error: { code: "not_found" },
    });
    expect((await del(theirError.id, await operator())).statusCode).toBe(404);
    expect((await post("not-an-id", await operator())).statusCode).toBe(400);

    expect((await post(mineError.id, await operator())).statusCode).toBe(204);
    const entry = (await h.store.outbox.forQueue(mine.queueId)).find((e) => e.id === mineError.event_id);
    expect(entry).toMatchObject({ status: "pending", attempts: 0, next_attempt_at: iso(h.clock.now()) });
    expect((await post(mineError.id, await operator())).statusCode).toBe(404);
    const stats = await get<{ items: Stats[] }>(
      `/dashboard/queue_stats?app_id=${mine.appId}`,
      await operator(),
    );
    expect(stats.body.items[0]?.callbacks.failed).toBe(0);

    expect((await del(theirError.id, await admin())).statusCode).toBe(204);
    expect((await del(theirError.id, await admin())).statusCode).toBe(404);
    expect(
      (await h.store.outbox.forQueue(theirs.queueId)).find((e) => e.id === theirError.event_id)?.status,
    ).toBe("dead");
    expect((await get<{ total: number }>("/dashboard/callback_errors", await admin())).body.total).toBe(0);
  });
});

describe("dashboard: OpenAPI", () => {
  it("documents every dashboard path with its responses", async () => {
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    for (const [path, method] of [
      ["/dashboard/summary", "get"],
      ["/dashboard/queue_stats", "get"],
      ["/dashboard/callback_errors", "get"],
      ["/dashboard/callback_errors/{id}/retry", "post"],
      ["/dashboard/callback_errors/{id}", "delete"],
    ] as const) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation?.responses ?? {})).toContain(method === "get" ? "200" : "204");
    }
  });
});
