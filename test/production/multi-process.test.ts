import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, createDatabase, createSiteVia, freePort, PrivateRedis } from "../helpers/cluster.js";
import { postgresForTests } from "../helpers/postgres.js";
import { Receiver } from "../helpers/receiver.js";

/**
 * Production mode for real: 2 API processes and 3 workers as child processes on loopback, sharing one
 * PostgreSQL database and one Redis. 5,000 visitors join through both APIs while the workers release.
 */
let cluster: Cluster;
let redis: PrivateRedis;
let database: { url: string; drop(): Promise<void> };
let receiver: Receiver;
let callbackUrl: string;
let db: pg.Pool;

beforeAll(async () => {
  const server = await postgresForTests();
  if (server === undefined) throw new Error("PostgreSQL unavailable");
  database = await createDatabase(server);
  db = new pg.Pool({ connectionString: database.url, max: 2 });
  redis = new PrivateRedis(await freePort());
  await redis.start();
  receiver = new Receiver();
  callbackUrl = await receiver.start();
  cluster = new Cluster({ dbUrl: database.url, redisUrl: redis.url });
  await cluster.migrate();
  await Promise.all([cluster.addApi(), cluster.addApi()]);
  await Promise.all([cluster.addWorker(), cluster.addWorker(), cluster.addWorker()]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
  await receiver?.stop();
  await db?.end();
  await database?.drop();
}, 60_000);

async function joinAll(
  apis: string[],
  apiKey: string,
  queueId: string,
  count: number,
): Promise<Map<string, string>> {
  const acknowledged = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const api = apis[i % apis.length] ?? "";
      const response = await fetch(`${api}/join`, {
        method: "POST",
        headers: { "x-api-key": apiKey, "content-type": "application/json" },
        body: JSON.stringify({ queue_id: queueId, visitor_id: `visitor-${i}` }),
      });
      if (response.status === 200)
        acknowledged.set(`visitor-${i}`, ((await response.json()) as { token: string }).token);
    }
  };
  await Promise.all(Array.from({ length: 40 }, worker));
  return acknowledged;
}

function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe("2 API processes and 3 workers", () => {
  it("take 5,000 joins through both APIs, account for every one, and release each visitor once at the configured rate", async () => {
    const rate = 1200; // a minute: one every 50 ms
    const api = cluster.apis.map((member) => member.url);
    const site = await createSiteVia(
      api[0] ?? "",
      { max_users_per_minute: rate },
      { callback_url: callbackUrl },
    );
    const started = Date.now();
    const acknowledged = await joinAll(api, site.apiKey, site.queueId, 5_000);
    expect(acknowledged.size).toBe(5_000);

    // Every acknowledged join is in the record, once.
    const tickets = await db.query<{ visitor_id: string; n: string }>(
      "select visitor_id, count(*) as n from tickets where queue_id = $1 group by visitor_id",
      [site.queueId],
    );
    expect(tickets.rows).toHaveLength(5_000);
    expect(tickets.rows.every((row) => row.n === "1")).toBe(true);

    // Positions are exact through either API: a sample of tokens against the record's count.
    const sample = [...acknowledged].filter((_, i) => i % 500 === 7);
    for (const [i, [visitorId, token]] of sample.entries()) {
      const status = (await (await fetch(`${api[i % 2]}/queue_status?token=${token}`)).json()) as {
        status: string;
        position: number | null;
      };
      if (status.status !== "waiting") continue;
      const ahead = await db.query<{ n: string }>(
        "select count(*) as n from tickets t where t.queue_id = $1 and t.status = 'waiting' and t.seq < (select seq from tickets where queue_id = $1 and visitor_id = $2)",
        [site.queueId, visitorId],
      );
      // Releases continue meanwhile, so allow the handful released between the two reads.
      expect(Math.abs((status.position ?? 0) - (Number(ahead.rows[0]?.n ?? 0) + 1))).toBeLessThanOrEqual(5);
    }

    // Let the workers release for a while, then stop them so the record holds still, and check it.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 25_000 - (Date.now() - started))));
    await cluster.stopWorkers();
    const released = await db.query<{ ms: number; id: string }>(
      "select extract(epoch from released_at) * 1000 as ms, id from tickets where queue_id = $1 and released_at is not null order by released_at",
      [site.queueId],
    );
    const times = released.rows.map((row) => Number(row.ms));
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    expect(times.length).toBeGreaterThan(200);
    // The GCRA bound for any window of L ms: floor(L / 50) + 1 (three workers share one rate, not three).
    for (const windowMs of [1_000, 5_000, 10_000]) {
      expect(maxInWindow(times, windowMs)).toBeLessThanOrEqual(windowMs / 50 + 1);
    }
    // Close to the rate over the run: real clocks and a CPU shared with the whole test suite can make a
    // worker late by more than an interval, which loses a slot (never adds one); the exact 1% over ten
    // minutes is shown with a controlled clock in test/waiting-room/release.test.ts.
    expect(times.length - 1).toBeGreaterThanOrEqual((span / 50) * 0.95);
    expect(times.length - 1).toBeLessThanOrEqual(span / 50 + 1);

    // No visitor released twice: one outbox event per released ticket, and releases are FIFO.
    const outbox = await db.query<{ ticket_id: string; n: string }>(
      "select ticket_id, count(*) as n from callback_outbox where queue_id = $1 group by ticket_id",
      [site.queueId],
    );
    expect(outbox.rows).toHaveLength(times.length);
    expect(outbox.rows.every((row) => row.n === "1")).toBe(true);
    const order = await db.query<{ seq: string }>(
      "select seq from tickets where queue_id = $1 and released_at is not null order by seq",
      [site.queueId],
    );
    expect(order.rows.map((row) => Number(row.seq))).toEqual(
      Array.from({ length: times.length }, (_, i) => i + 1),
    );

    // Callbacks were delivered, each event once or more (at least once), never for an unreleased visitor.
    const events = new Set(
      receiver.received.map((call) => (JSON.parse(call.body) as { event_id: string }).event_id),
    );
    expect(events.size).toBeGreaterThan(times.length * 0.9);
    expect(events.size).toBeLessThanOrEqual(times.length);
  }, 120_000);
});
