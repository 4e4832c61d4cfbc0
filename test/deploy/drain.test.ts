import { once } from "node:events";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSiteVia, type Member } from "../helpers/cluster.js";
import { Receiver } from "../helpers/receiver.js";
import { type Stack, stackAvailable, startStack } from "./stack.js";

/**
 * SIGTERM as an orchestrator sends it (docker stop, a rolling update, a scale-down), to the real processes the
 * image runs: `anteroom serve` under a load of joins with live-update streams open, and `anteroom worker` while
 * it releases and sends callbacks. No acknowledged join may be lost, every request gets a complete answer or a
 * refused connection (never a cut-off body), the streams end with a reconnect hint, the worker's releases are
 * whole (each released visitor has its callback event: the transaction committed or rolled back entirely),
 * and both processes exit 0 within the grace period.
 */
const available = await stackAvailable();

type Outcome =
  | { kind: "acknowledged"; visitorId: string }
  | { kind: "answered"; status: number }
  | { kind: "refused" }
  | { kind: "no-response"; visitorId: string; detail: string }
  | { kind: "truncated"; detail: string };

function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `${cause?.code ?? ""} ${cause?.message ?? String(error)}`.trim();
}

/** One join, classified by how completely it was answered. */
async function join(url: string, apiKey: string, queueId: string, visitorId: string): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(`${url}/join`, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": "application/json" },
      body: JSON.stringify({ queue_id: queueId, visitor_id: visitorId }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const code = causeCode(error);
    return code.startsWith("ECONNREFUSED")
      ? { kind: "refused" }
      : { kind: "no-response", visitorId, detail: code };
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    return { kind: "truncated", detail: `${response.status}: ${causeCode(error)}` };
  }
  try {
    const parsed = JSON.parse(body) as { token?: unknown };
    if (response.status === 200 && typeof parsed.token !== "string") {
      return { kind: "truncated", detail: `200 without a token: ${body.slice(0, 200)}` };
    }
  } catch {
    return { kind: "truncated", detail: `${response.status}: not JSON: ${body.slice(0, 200)}` };
  }
  return response.status === 200
    ? { kind: "acknowledged", visitorId }
    : { kind: "answered", status: response.status };
}

/** A live-update stream: everything it received, and how it ended. */
async function stream(url: string, token: string): Promise<{ text: string; ended: "cleanly" | string }> {
  const response = await fetch(`${url}/queue_events?token=${encodeURIComponent(token)}`, {
    signal: AbortSignal.timeout(30_000),
  });
  expect(response.status).toBe(200);
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body ?? [])
      text += decoder.decode(chunk as Uint8Array, { stream: true });
    return { text, ended: "cleanly" };
  } catch (error) {
    return { text, ended: causeCode(error) };
  }
}

function count(outcomes: Outcome[]): Record<Outcome["kind"], number> {
  const totals = { acknowledged: 0, answered: 0, refused: 0, "no-response": 0, truncated: 0 };
  for (const outcome of outcomes) totals[outcome.kind] += 1;
  return totals;
}

async function exitOf(member: Member): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const [code] = (await once(member.child, "exit")) as [number | null];
  return { code, ms: Date.now() - started };
}

let stack: Stack;
let db: pg.Pool;
let receiver: Receiver;
let callbackUrl: string;

describe.skipIf(!available)("SIGTERM drains (the processes the image runs)", () => {
  beforeAll(async () => {
    stack = await startStack();
    db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
    receiver = new Receiver();
    callbackUrl = await receiver.start();
  }, 90_000);

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
    await receiver?.stop();
  }, 60_000);

  it("anteroom serve under a load of joins: no acknowledged join lost, no cut-off answer, streams told to reconnect", async () => {
    const api = await stack.cluster.addApi();
    const site = await createSiteVia(api.url, { max_users_per_minute: 1 }, { callback_url: callbackUrl });

    // Live-update streams of a few waiting visitors, open when the signal comes.
    const streams: Promise<{ text: string; ended: string }>[] = [];
    for (let i = 0; i < 5; i++) {
      const outcome = await fetch(`${api.url}/join`, {
        method: "POST",
        headers: { "x-api-key": site.apiKey, "content-type": "application/json" },
        body: JSON.stringify({ queue_id: site.queueId, visitor_id: `streaming-${i}` }),
      });
      const { token } = (await outcome.json()) as { token: string };
      streams.push(stream(api.url, token));
    }

    // 40 clients join in a loop (bounded: 10,000 joins or 20 s) until the server refuses connections.
    const outcomes: Outcome[] = [];
    let next = 0;
    let refused = false;
    const deadline = Date.now() + 20_000;
    const client = async () => {
      while (!refused && next < 10_000 && Date.now() < deadline) {
        const outcome = await join(api.url, site.apiKey, site.queueId, `visitor-${next++}`);
        outcomes.push(outcome);
        if (outcome.kind === "refused") refused = true;
      }
    };
    const load = Promise.all(Array.from({ length: 40 }, client));
    // Under load for a second, then the signal.
    while (outcomes.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const acknowledgedBefore = outcomes.filter((o) => o.kind === "acknowledged").length;
    const exit = exitOf(api);
    api.child.kill("SIGTERM");
    await load;
    const { code, ms } = await exit;
    const totals = count(outcomes);
    const ended = await Promise.all(streams);

    const acknowledged = outcomes.flatMap((o) => (o.kind === "acknowledged" ? [o.visitorId] : []));
    const recorded = await db.query<{ visitor_id: string }>(
      "select visitor_id from tickets where queue_id = $1 and visitor_id = any($2)",
      [site.queueId, acknowledged],
    );
    console.info(
      `serve drain: ${outcomes.length} joins sent, ${JSON.stringify(totals)}; ` +
        `acknowledged ${acknowledged.length} (${acknowledgedBefore} before SIGTERM), found in the record ` +
        `${recorded.rows.length}; exit ${code} after ${ms} ms; streams ${ended.map((s) => s.ended).join(",")}`,
    );
    expect(acknowledgedBefore).toBeGreaterThanOrEqual(300 - 40);
    expect(recorded.rows.length).toBe(acknowledged.length);
    expect(totals.truncated, JSON.stringify(outcomes.filter((o) => o.kind === "truncated"))).toBe(0);
    // A request that got no response at all is one the application never read: a connection still in the
    // kernel's accept queue when the listener closed, or a keep-alive connection idle for a second that the
    // client picked up just as it was closed (HTTP/1.1's own race, the same as at the keep-alive timeout).
    // Such a join must not be in the record: had the process read it, it would have answered it.
    const unanswered = outcomes.flatMap((o) => (o.kind === "no-response" ? [o.visitorId] : []));
    const unansweredRecorded = await db.query<{ visitor_id: string }>(
      "select visitor_id from tickets where queue_id = $1 and visitor_id = any($2)",
      [site.queueId, unanswered],
    );
    expect(unansweredRecorded.rows, JSON.stringify(outcomes.filter((o) => o.kind === "no-response"))).toEqual(
      [],
    );
    expect(totals["no-response"]).toBeLessThanOrEqual(10);
    expect(totals.refused).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(15_000);
    for (const { text, ended: how } of ended) {
      expect(how).toBe("cleanly");
      expect(text).toContain("event: status");
      expect(text.trimEnd().endsWith("retry: 1000")).toBe(true);
    }
  }, 90_000);

  it("anteroom worker while releasing and sending callbacks: exits 0 with every release whole, and another worker carries on", async () => {
    const api = await stack.cluster.addApi();
    const site = await createSiteVia(
      api.url,
      { max_users_per_minute: 12_000 },
      { callback_url: callbackUrl },
    );
    const worker = await stack.cluster.addWorker();
    // Visitors keep joining (bounded: 600 joins, 20 clients) while the worker releases 200 a second.
    const TOTAL = 600;
    let next = 0;
    const joins = Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < TOTAL) {
          const response = await fetch(`${api.url}/join`, {
            method: "POST",
            headers: { "x-api-key": site.apiKey, "content-type": "application/json" },
            body: JSON.stringify({ queue_id: site.queueId, visitor_id: `released-${next++}` }),
          });
          expect(response.status).toBe(200);
          await response.arrayBuffer();
        }
      }),
    );
    const releasedCount = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            "select count(*) as n from tickets where queue_id = $1 and released_at is not null",
            [site.queueId],
          )
        ).rows[0]?.n ?? 0,
      );
    const deadline = Date.now() + 20_000;
    while ((await releasedCount()) < 100 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const exit = exitOf(worker);
    worker.child.kill("SIGTERM");
    const { code, ms } = await exit;
    const atExit = await releasedCount();
    const joinedAtExit = next;

    // Whole releases: each released ticket has exactly one callback event, and no event lacks its release.
    const check = async () => {
      const rows = await db.query<{ released: string; events: string; doubled: string; orphans: string }>(
        `select
           (select count(*) from tickets where queue_id = $1 and released_at is not null) as released,
           (select count(distinct ticket_id) from callback_outbox where queue_id = $1) as events,
           (select count(*) from (select ticket_id from callback_outbox where queue_id = $1
              group by ticket_id having count(*) > 1) d) as doubled,
           (select count(*) from callback_outbox o join tickets t on t.id = o.ticket_id
              where o.queue_id = $1 and t.released_at is null) as orphans`,
        [site.queueId],
      );
      return rows.rows[0];
    };
    const afterStop = await check();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(15_000);
    expect(atExit).toBeGreaterThanOrEqual(100);
    expect(Number(afterStop?.released)).toBe(atExit);
    expect(Number(afterStop?.events)).toBe(atExit);
    expect(Number(afterStop?.doubled)).toBe(0);
    expect(Number(afterStop?.orphans)).toBe(0);

    // Another worker takes over: everyone who joined is released, still whole, and every callback is
    // delivered (none left claimed by the stopped worker until its lease ran out).
    await joins;
    await stack.cluster.addWorker();
    const eventsDelivered = () =>
      new Set(
        receiver.received
          .map((call) => JSON.parse(call.body) as { event_id: string; queue_id: string })
          .filter((event) => event.queue_id === site.queueId)
          .map((event) => event.event_id),
      ).size;
    const rest = Date.now() + 30_000;
    while ((await releasedCount()) < TOTAL || eventsDelivered() < TOTAL) {
      if (Date.now() > rest) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const final = await check();
    console.info(
      `worker drain: SIGTERM with ${joinedAtExit} joined and ${atExit} released (exit ${code} after ${ms} ms); ` +
        `after a new worker: ${final?.released} released, ${final?.events} callback events, ` +
        `${eventsDelivered()} delivered`,
    );
    expect(Number(final?.released)).toBe(TOTAL);
    expect(Number(final?.events)).toBe(TOTAL);
    expect(Number(final?.doubled)).toBe(0);
    expect(eventsDelivered()).toBe(TOTAL);
  }, 120_000);
});
