import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, createSiteVia, freePort, PrivateRedis } from "../helpers/cluster.js";
import { startTempCluster, type TempCluster } from "../helpers/postgres.js";
import { Receiver } from "../helpers/receiver.js";

/**
 * Faults in production mode, on servers of this test's own (a temporary PostgreSQL cluster and a private
 * redis-server) so they can be killed, flushed and restarted: a worker killed mid-release, Redis flushed,
 * Redis restarted, PostgreSQL restarted, each during load.
 */
let postgres: TempCluster;
let redis: PrivateRedis;
let cluster: Cluster;
let receiver: Receiver;
let callbackUrl: string;
let db: pg.Pool;
let api: string;

beforeAll(async () => {
  postgres = await startTempCluster();
  db = new pg.Pool({ connectionString: postgres.url, max: 2 });
  db.on("error", () => {});
  redis = new PrivateRedis(await freePort());
  await redis.start();
  receiver = new Receiver();
  callbackUrl = await receiver.start();
  cluster = new Cluster({ dbUrl: postgres.url, redisUrl: redis.url, env: { CALLBACK_LEASE_SECONDS: "5" } });
  await cluster.migrate();
  api = (await cluster.addApi()).url;
  await Promise.all([cluster.addWorker(), cluster.addWorker()]);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  await redis?.stop();
  await receiver?.stop();
  await db?.end();
  postgres?.destroy();
}, 60_000);

interface Answer {
  status: number;
  ms: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(`${api}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  return {
    status: response.status,
    ms: Date.now() - started,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
    retryAfter: response.headers.get("retry-after"),
  };
}

function joinVia(apiKey: string, queueId: string, visitorId: string): Promise<Answer> {
  return call("/join", {
    method: "POST",
    headers: { "x-api-key": apiKey, "content-type": "application/json" },
    body: JSON.stringify({ queue_id: queueId, visitor_id: visitorId }),
  });
}

async function joinMany(apiKey: string, queueId: string, prefix: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - start) }, (_, i) =>
        joinVia(apiKey, queueId, `${prefix}-${start + i}`),
      ),
    );
    for (const answer of batch) {
      expect(answer.status).toBe(200);
      tokens.push(String(answer.body.token));
    }
  }
  return tokens;
}

/** Waiting visitors ahead of each token's ticket, from the record: the truth positions are checked against. */
async function truePositions(queueId: string): Promise<Map<number, number>> {
  const rows = await db.query<{ seq: string }>(
    "select seq from tickets where queue_id = $1 and status = 'waiting' order by seq",
    [queueId],
  );
  return new Map(rows.rows.map((row, i) => [Number(row.seq), i + 1]));
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** The ticket number a visitor token names (bytes 17..23, see src/domain/visitor-token.ts). */
const seqOf = (token: string): number => Buffer.from(token, "base64url").readUIntBE(17, 6);

async function positionsExact(queueId: string, tokens: string[]): Promise<boolean> {
  const truth = await truePositions(queueId);
  const answers = await Promise.all(tokens.map((token) => call(`/queue_status?token=${token}`)));
  return answers.every((answer, i) => {
    if (answer.status !== 200) return false;
    const expected = truth.get(seqOf(tokens[i] ?? ""));
    return expected === undefined ? answer.body.status !== "waiting" : answer.body.position === expected;
  });
}

/**
 * Background load (joins and polls from several concurrent clients) while a fault is in progress: every
 * answer must be a success or a 503 with Retry-After, none may hang.
 */
function loadDuring(apiKey: string, queueId: string, tokens: string[]) {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const client = async (id: number) => {
    while (running) {
      n += 1;
      const answer =
        id % 2 === 0
          ? await joinVia(apiKey, queueId, `load-${id}-${n}`)
          : await call(`/queue_status?token=${tokens[n % tokens.length]}`);
      answers.push(answer);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const clients = Promise.all(Array.from({ length: 8 }, (_, id) => client(id)));
  return {
    async stop(): Promise<Answer[]> {
      running = false;
      await clients;
      return answers;
    },
  };
}

function expectGracefulAnswers(answers: Answer[]): void {
  expect(answers.length).toBeGreaterThan(20);
  for (const answer of answers) {
    expect([200, 503]).toContain(answer.status);
    if (answer.status === 503) expect(answer.retryAfter).not.toBeNull();
    expect(answer.ms).toBeLessThan(5_000);
  }
}

describe("production faults", () => {
  it("a worker killed with SIGKILL mid-release releases nobody twice and loses nothing", async () => {
    const site = await createSiteVia(api, { max_users_per_minute: 6000 }, { callback_url: callbackUrl });
    await joinMany(site.apiKey, site.queueId, "kill", 1500);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const victim = cluster.workers[0];
    victim?.child.kill("SIGKILL");
    // The survivor carries on; callbacks the dead worker had claimed are taken over after their lease.
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    const stoppedAt = new Date();
    await cluster.stopWorkers();
    const released = await db.query<{ seq: string }>(
      "select seq from tickets where queue_id = $1 and status = 'released' order by seq",
      [site.queueId],
    );
    const seqs = released.rows.map((row) => Number(row.seq));
    expect(seqs.length).toBeGreaterThan(300);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1)); // FIFO, no gaps
    const outbox = await db.query<{ n: string; distinct_tickets: string; settled: string; older: string }>(
      `select count(*) as n, count(distinct ticket_id) as distinct_tickets,
              count(*) filter (where status = 'delivered' and created_at < $2) as settled,
              count(*) filter (where created_at < $2) as older
         from callback_outbox where queue_id = $1`,
      [site.queueId, new Date(stoppedAt.getTime() - 2_000)],
    );
    const row = outbox.rows[0];
    expect(Number(row?.n)).toBe(seqs.length); // a callback for every release...
    expect(Number(row?.distinct_tickets)).toBe(seqs.length); // ...and only one
    // Every callback older than a moment was delivered, those the killed worker held included.
    expect(Number(row?.settled)).toBe(Number(row?.older));
    await Promise.all([cluster.addWorker(), cluster.addWorker()]);
  }, 120_000);

  it("after Redis is flushed mid-run, the index is rebuilt and positions are exact again", async () => {
    const site = await createSiteVia(api, { max_users_per_minute: 1 }, {});
    const tokens = await joinMany(site.apiKey, site.queueId, "flush", 300);
    expect(await until(() => positionsExact(site.queueId, tokens), 10_000)).toBe(true);
    await redis.flush();
    const during = await call(`/queue_status?token=${tokens[10]}`);
    expect([200, 503]).toContain(during.status);
    const late = await joinVia(site.apiKey, site.queueId, "flush-late");
    expect(late.status).toBe(200);
    expect(await until(() => positionsExact(site.queueId, tokens), 15_000)).toBe(true);
    const lateStatus = await call(`/queue_status?token=${late.body.token}`);
    const truth = await truePositions(site.queueId);
    expect(lateStatus.body).toMatchObject({
      status: "waiting",
      position: truth.get(seqOf(String(late.body.token))),
    });
  }, 120_000);

  it("with Redis down, polls fail fast with 503 and joins still commit; on its return everything recovers", async () => {
    const site = await createSiteVia(api, { max_users_per_minute: 1 }, {});
    const tokens = await joinMany(site.apiKey, site.queueId, "redis-down", 100);
    const load = loadDuring(site.apiKey, site.queueId, tokens);
    await redis.stop();
    const poll = await call(`/queue_status?token=${tokens[5]}`);
    expect(poll.status).toBe(503);
    expect(poll.retryAfter).not.toBeNull();
    expect(poll.ms).toBeLessThan(3_000);
    const joined = await joinVia(site.apiKey, site.queueId, "redis-down-late");
    expect(joined.status).toBe(200);
    const lateSeq = seqOf(String(joined.body.token));
    // Its place, from the record while the index is away.
    expect(joined.body).toMatchObject({
      status: "waiting",
      position: (await truePositions(site.queueId)).get(lateSeq),
    });
    const ready = await call("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ checks: { record: { ok: true }, index: { ok: false } } });

    await redis.start(); // comes back empty
    expect(
      await until(
        async () => (await call(`/queue_status?token=${joined.body.token}`)).status === 200,
        20_000,
      ),
    ).toBe(true);
    const answers = await load.stop();
    expectGracefulAnswers(answers);
    expect(answers.some((answer) => answer.status === 503)).toBe(true); // polls while it was away
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThan(0); // joins meanwhile
    expect(await until(() => positionsExact(site.queueId, tokens), 20_000)).toBe(true);
    expect((await call(`/queue_status?token=${joined.body.token}`)).body).toMatchObject({
      position: (await truePositions(site.queueId)).get(lateSeq),
    });
    expect((await call("/readyz")).status).toBe(200);
  }, 120_000);

  it("with PostgreSQL down, joins fail fast with 503 while polls keep answering; both recover", async () => {
    const site = await createSiteVia(api, { max_users_per_minute: 1 }, {});
    const tokens = await joinMany(site.apiKey, site.queueId, "pg-down", 50);
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the first release (one a minute)
    // Polls are answered from the index alone once the worker has given it the queue's figures (its meta):
    // on a loaded machine that can take longer than the first release.
    const client = new Redis(redis.url);
    try {
      expect(
        await until(async () => (await client.exists(`aq:{q:${site.queueId}}:meta`)) === 1, 20_000),
      ).toBe(true);
    } finally {
      client.disconnect();
    }
    const expected = (await truePositions(site.queueId)).get(seqOf(tokens[3] ?? ""));
    const load = loadDuring(site.apiKey, site.queueId, tokens);
    postgres.stop("immediate");
    try {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => joinVia(site.apiKey, site.queueId, `pg-down-late-${i}`)),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).not.toBeNull();
        expect(answer.ms).toBeLessThan(5_000); // no hanging request
      }
      const poll = await call(`/queue_status?token=${tokens[3]}`);
      expect(poll.status).toBe(200);
      expect(poll.body).toMatchObject({ status: "waiting", position: expected });
      expect((await call("/readyz")).body).toMatchObject({
        checks: { record: { ok: false }, index: { ok: true } },
      });
    } finally {
      await postgres.start();
    }
    expect(
      await until(async () => (await joinVia(site.apiKey, site.queueId, "pg-back")).status === 200, 20_000),
    ).toBe(true);
    const answers = await load.stop();
    expectGracefulAnswers(answers);
    expect(answers.some((answer) => answer.status === 503)).toBe(true); // joins while it was away
    expect((await call("/readyz")).status).toBe(200);
  }, 120_000);
});
