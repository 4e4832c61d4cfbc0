import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ANALYTICS_ROWS } from "../../src/services/dashboard.js";
import { type Harness, startHarness } from "../helpers/harness.js";
import { createSite, join } from "../helpers/site.js";

/** A morning in March (UTC): the history spans three hours, the reading comes after. */
const START = Date.UTC(2030, 2, 10, 9, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let h: Harness;
const admin = () => h.login("admin@example.com");
const operator = () => h.login("operator@example.com", "operator");
const viewer = () => h.login("viewer@example.com", "viewer");
let mine: Awaited<ReturnType<typeof createSite>>;
let theirs: Awaited<ReturnType<typeof createSite>>;
let secondQueue: string;

interface Point {
  joins: number;
  releases: number;
  cancels: number;
  expired: Record<string, number>;
  wait_ms: { p50: number | null; p90: number | null; p99: number | null };
  peak_waiting: number;
  callbacks: {
    delivered: number;
    failed: number;
    success_rate: number | null;
    duration_p95_ms: number | null;
  };
}
interface Analytics {
  application_id: string | null;
  queue_id: string | null;
  days: number;
  granularity: string;
  from: string;
  to: string;
  series: (Point & { start: string })[];
  totals: Point;
}

async function get<T>(url: string, headers: { authorization: string }) {
  const response = await h.app.inject({ method: "GET", url, headers });
  return { status: response.statusCode, body: response.json<T>() };
}

/** The record's tickets of a queue, for exact expectations. */
async function tickets(queueId: string) {
  return h.store.db
    .selectFrom("tickets")
    .select(["joined_at", "released_at", "ended_at", "end_reason"])
    .where("queue_id", "=", queueId)
    .execute();
}

function nearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? Number.NaN;
}

const hourOf = (instant: string | null) =>
  instant === null ? -1 : Math.floor(Date.parse(instant) / HOUR) * HOUR;

beforeAll(async () => {
  h = await startHarness();
  h.clock.set(START);
  mine = await createSite(h, { max_users_per_minute: 2 });
  theirs = await createSite(h, { max_users_per_minute: 2 });
  const created = await h.app.inject({
    method: "POST",
    url: "/queues/",
    headers: await admin(),
    payload: { application_id: mine.appId, name: "Second", max_users_per_minute: 5 },
  });
  secondQueue = created.json<{ id: string }>().id;
  await h.room.engine.refresh();
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

  // Three hours of a sale: joins in bursts, releases every minute at the queues' rates, a few cancels.
  for (let hour = 0; hour < 3; hour++) {
    const tokens: string[] = [];
    for (let i = 0; i < 12; i++)
      tokens.push((await join(h, mine.apiKey, mine.queueId, `v-${hour}-${i}`)).token);
    for (let i = 0; i < 4; i++) await join(h, mine.apiKey, secondQueue, `s-${hour}-${i}`);
    for (let i = 0; i < 3; i++) await join(h, theirs.apiKey, theirs.queueId, `t-${hour}-${i}`);
    await h.app.inject({ method: "POST", url: "/cancel", payload: { token: tokens[11] } });
    for (let minute = 0; minute < 20; minute++) {
      if (minute === 0) await h.room.analytics.rollUp(); // the worker runs while it all happens
      h.clock.advance(MINUTE);
      await h.room.engine.releaseDue();
    }
    h.clock.set(START + (hour + 1) * HOUR);
  }
  // A minute past the rollup's lag after the last event, the worker counts the rest.
  h.clock.advance(2 * MINUTE);
  const { caughtUp } = await h.room.analytics.rollUp();
  expect(caughtUp).toBe(true);
});
afterAll(() => h.close());

describe("dashboard: analytics", () => {
  it("answers per hour what the record holds, exactly for counts, within 5% for wait percentiles", async () => {
    const { status, body } = await get<Analytics>(
      `/dashboard/analytics?app_id=${mine.appId}&queue_id=${mine.queueId}&days=1&granularity=hour`,
      await viewer(),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      application_id: mine.appId,
      queue_id: mine.queueId,
      days: 1,
      granularity: "hour",
    });
    const dayStart = Math.floor(h.clock.now() / DAY) * DAY;
    expect(body.from).toBe(new Date(dayStart).toISOString());
    expect(body.series).toHaveLength((START + 3 * HOUR - dayStart) / HOUR + 1);
    const rows = await tickets(mine.queueId);
    let releasedHours = 0;
    for (const point of body.series) {
      const hour = Date.parse(point.start);
      const joins = rows.filter((row) => hourOf(row.joined_at) === hour);
      const released = rows.filter((row) => hourOf(row.released_at) === hour);
      const cancelled = rows.filter((row) => row.end_reason === "cancelled" && hourOf(row.ended_at) === hour);
      expect(point.joins, point.start).toBe(joins.length);
      expect(point.releases, point.start).toBe(released.length);
      expect(point.cancels, point.start).toBe(cancelled.length);
      if (released.length === 0) {
        expect(point.wait_ms).toEqual({ p50: null, p90: null, p99: null });
        continue;
      }
      releasedHours++;
      const waits = released.map((row) => Date.parse(String(row.released_at)) - Date.parse(row.joined_at));
      for (const [key, q] of [
        ["p50", 0.5],
        ["p90", 0.9],
        ["p99", 0.99],
      ] as const) {
        const truth = nearestRank(waits, q);
        expect(Math.abs((point.wait_ms[key] ?? 0) - truth)).toBeLessThanOrEqual(0.05 * truth);
      }
    }
    expect(releasedHours).toBe(3);
    expect(body.totals.joins).toBe(36);
    expect(body.totals.cancels).toBe(3);
    expect(body.totals.releases).toBe(rows.filter((row) => row.released_at !== null).length);
    // The line was sampled while it was long: the rollup ran before each hour's first release, when 12 had
    // joined and one cancelled.
    expect(body.totals.peak_waiting).toBeGreaterThanOrEqual(11);
    expect(body.totals.peak_waiting).toBeLessThanOrEqual(33);
  });

  it("folds an application's queues into UTC days, every day of the range present", async () => {
    const { status, body } = await get<Analytics>(
      `/dashboard/analytics?app_id=${mine.appId}`,
      await operator(),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ queue_id: null, days: 7, granularity: "day" });
    expect(body.series).toHaveLength(7);
    const today = body.series[6];
    expect(today?.start).toBe(new Date(Math.floor(START / DAY) * DAY).toISOString());
    expect(body.series.slice(0, 6).every((point) => point.joins === 0 && point.wait_ms.p50 === null)).toBe(
      true,
    );
    const rows = [...(await tickets(mine.queueId)), ...(await tickets(secondQueue))];
    expect(today?.joins).toBe(48);
    expect(today?.releases).toBe(rows.filter((row) => row.released_at !== null).length);
    expect(body.totals.joins).toBe(48);
  });

  it("shows a tenant only its own applications; another's application or queue is a 404", async () => {
    const all = await get<Analytics>("/dashboard/analytics?days=1", await operator());
    expect(all.status).toBe(200);
    expect(all.body.totals.joins).toBe(48);
    const everything = await get<Analytics>("/dashboard/analytics?days=1", await admin());
    expect(everything.body.totals.joins).toBe(57);
    for (const url of [
      `/dashboard/analytics?app_id=${theirs.appId}`,
      `/dashboard/analytics?queue_id=${theirs.queueId}`,
      `/dashboard/analytics?app_id=${mine.appId}&queue_id=${theirs.queueId}`,
      "/dashboard/analytics?app_id=00000000-0000-4000-8000-000000000000",
      "/dashboard/analytics?queue_id=00000000-0000-4000-8000-000000000000",
    ]) {
      const response = await get<{ error: { code: string } }>(url, await operator());
      expect(response, url).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    }
    const theirsAsAdmin = await get<Analytics>(
      `/dashboard/analytics?app_id=${theirs.appId}&days=1`,
      await admin(),
    );
    expect(theirsAsAdmin.body.totals.joins).toBe(9);
    expect((await h.app.inject({ method: "GET", url: "/dashboard/analytics" })).statusCode).toBe(401);
  });

  it("refuses bad input with a 400 and a stable code", async () => {
    for (const query of [
      "days=0",
      "days=91",
      "days=7.5",
      "days=x",
      "granularity=week",
      "app_id=nope",
      `app_id=${"a".repeat(5000)}`,
      "queue_id=1",
      "other=1",
    ]) {
      const response = await get<{ error: { code: string } }>(`/dashboard/analytics?${query}`, await admin());
      expect(response.status, query).toBe(400);
      expect(response.body.error.code, query).toBe("validation_failed");
    }
  });

  it("refuses, with a 400 naming the way out, a question over more stored periods than it folds at once", async () => {
    // 24 more applications' worth of hourly rows for 90 days (no queues needed: rollups outlive them).
    const now = h.clock.now();
    const firstHour = Math.floor(now / DAY) * DAY - 89 * DAY;
    const hours = (Math.floor(now / HOUR) * HOUR - firstHour) / HOUR;
    let rows = 0;
    const made: string[] = [];
    for (let app = 0; rows <= MAX_ANALYTICS_ROWS; app++) {
      const applicationId = `00000000-0000-4000-8000-${String(app).padStart(12, "0")}`;
      made.push(applicationId);
      const values = Array.from({ length: hours }, (_, i) => ({
        subject_id: applicationId,
        level: "application" as const,
        application_id: applicationId,
        span: "hour" as const,
        period_start: new Date(firstHour + i * HOUR).toISOString(),
        joins: 1,
        releases: 0,
        cancels: 0,
        abandoned: 0,
        not_seen: 0,
        admission_ended: 0,
        callbacks_delivered: 0,
        callbacks_failed: 0,
        peak_waiting: 0,
        wait_hist: "",
        callback_hist: "",
      }));
      for (let i = 0; i < values.length; i += 500) {
        await h.store.db
          .insertInto("queue_rollups")
          .values(values.slice(i, i + 500))
          .execute();
      }
      rows += values.length;
    }
    const tooMuch = await get<{ error: { code: string; message: string } }>(
      "/dashboard/analytics?days=90&granularity=hour",
      await admin(),
    );
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.code).toBe("validation_failed");
    expect(tooMuch.body.error.message).toContain("one application");
    // By day, or about one application, it answers.
    const byDay = await get<Analytics>("/dashboard/analytics?days=90", await admin());
    expect(byDay.status).toBe(200);
    expect(byDay.body.totals.joins).toBe(57);
    const one = await get<Analytics>(
      `/dashboard/analytics?app_id=${mine.appId}&days=90&granularity=hour`,
      await admin(),
    );
    expect(one.status).toBe(200);
    // The operator sees only their application: no more than it holds.
    expect(
      (await get<Analytics>("/dashboard/analytics?days=90&granularity=hour", await operator())).status,
    ).toBe(200);
    await h.store.db.deleteFrom("queue_rollups").where("subject_id", "in", made).execute();
  }, 60_000);

  it("keeps analytics when tickets past RETENTION_DAYS are pruned, and prunes only those", async () => {
    const before = await get<Analytics>(`/dashboard/analytics?app_id=${mine.appId}&days=90`, await admin());
    // 31 days on: the rollup catches up, then the prune takes every ended ticket (waiting ones stay).
    h.clock.advance(31 * DAY);
    await h.room.analytics.rollUp();
    const endedBefore = (await tickets(mine.queueId)).filter((row) => row.ended_at !== null).length;
    expect(endedBefore).toBeGreaterThan(0);
    const pruned = await h.room.analytics.prune();
    expect(pruned).toBeGreaterThanOrEqual(endedBefore);
    expect((await tickets(mine.queueId)).filter((row) => row.ended_at !== null)).toEqual([]);
    const after = await get<Analytics>(`/dashboard/analytics?app_id=${mine.appId}&days=90`, await admin());
    expect(after.body.totals).toEqual(before.body.totals);
    expect(await h.room.analytics.prune()).toBe(0);
  });
});
