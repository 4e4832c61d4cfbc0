// `npm run bench -- --analytics [--mode production]`: GET /dashboard/analytics over 90 days of rollups of
// a site taking 1M visitors a day. The target runs as `npm run bench` starts it (embedded, or production's
// PostgreSQL + Redis with two API processes and a worker); the bench creates an application with four
// queues through the admin API, writes the hourly rollups the worker would have written for 90 days
// (per queue and for the application, per hour and per day; wait and callback histograms built from
// sampled durations), then times requests one
// after another. Reported: median and p95 per question; PASS when every p95 is under 100 ms.
// The last line of stdout is one JSON object. See bench/README.md.

import { addRollup, DAY_MS, dayOf, emptyHour, HOUR_MS, type HourCounts } from "../src/domain/analytics.js";
import { Histogram } from "../src/domain/histogram.js";
import { iso } from "../src/domain/time.js";
import type { KyselyStore } from "../src/store/kysely/store.js";
import { openPostgresStore } from "../src/store/postgres.js";
import type { QueueRollupsTable, RollupLevel, RollupSpan } from "../src/store/schema.js";
import { openSqliteStore } from "../src/store/sqlite.js";
import { adminToken, call, stringField } from "./fixture.js";
import type { Mode } from "./options.js";
import { log } from "./processes.js";
import { startTarget, type Target, type TargetOptions } from "./targets.js";

const DAYS = 90;
const QUEUES = 4;
const VISITORS_PER_DAY = 1_000_000;
/** Durations sampled per row's histogram (each counted visitors / samples times). */
const SAMPLES = 1_000;
const WARMUP = 5;
const REQUESTS = 30;
const TARGET_P95_MS = 100;

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function logNormal(next: () => number, median: number, sigma: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return median * Math.exp(sigma * normal);
}

/** A histogram of `count` durations drawn around `median` (SAMPLES drawn, each standing for several). */
function sampled(next: () => number, count: number, median: number, sigma: number): Histogram {
  const histogram = new Histogram();
  if (count === 0) return histogram;
  const draws = Math.min(count, SAMPLES);
  const each = Math.floor(count / draws);
  let extra = count - each * draws;
  for (let i = 0; i < draws; i++) {
    histogram.add(logNormal(next, median, sigma), each + (extra > 0 ? 1 : 0));
    extra--;
  }
  return histogram;
}

interface Period {
  counts: HourCounts;
  peak: number;
}

/**
 * The rows the worker would have written: a daily cycle of load, waits growing with it; per queue and for
 * the application, per hour and per day.
 */
function* rollupRows(applicationId: string, queueIds: readonly string[], end: number) {
  const next = random(90);
  const start = end - DAYS * DAY_MS;
  const perQueueHour = VISITORS_PER_DAY / 24 / queueIds.length;
  const row = (
    subject: string,
    level: RollupLevel,
    span: RollupSpan,
    at: number,
    p: Period,
  ): QueueRollupsTable => ({
    subject_id: subject,
    level,
    application_id: applicationId,
    span,
    period_start: iso(at),
    joins: p.counts.joins,
    releases: p.counts.releases,
    cancels: p.counts.cancels,
    abandoned: p.counts.abandoned,
    not_seen: p.counts.not_seen,
    admission_ended: p.counts.admission_ended,
    callbacks_delivered: p.counts.callbacks_delivered,
    callbacks_failed: p.counts.callbacks_failed,
    peak_waiting: p.peak,
    wait_hist: p.counts.wait.encode(),
    callback_hist: p.counts.callbackDuration.encode(),
  });
  const add = (into: Period | undefined, more: Period, peak: (a: number, b: number) => number): Period => {
    const sum = into ?? { counts: emptyHour(), peak: 0 };
    addRollup(sum.counts, more.counts);
    sum.peak = peak(sum.peak, more.peak);
    return sum;
  };
  const days = new Map<string, Period>();
  for (let hour = start; hour < end; hour += HOUR_MS) {
    const load = 1 + 0.8 * Math.sin((2 * Math.PI * ((hour / HOUR_MS) % 24)) / 24);
    let application: Period | undefined;
    const day = dayOf(hour);
    const dayEnds = hour + HOUR_MS === day + DAY_MS || hour + HOUR_MS >= end;
    for (const queueId of queueIds) {
      const joins = Math.round(perQueueHour * load * (0.9 + 0.2 * next()));
      const cancels = Math.round(joins * 0.03);
      const abandoned = Math.round(joins * 0.05);
      const releases = joins - cancels - abandoned;
      const failed = Math.round(releases * 0.002);
      const period: Period = {
        counts: {
          joins,
          releases,
          cancels,
          abandoned,
          not_seen: Math.round(releases * 0.01),
          admission_ended: Math.round(releases * 0.9),
          callbacks_delivered: releases - failed,
          callbacks_failed: failed,
          wait: sampled(next, releases, 300_000 * load, 1),
          callbackDuration: sampled(next, releases - failed, 80, 0.6),
        },
        peak: Math.round(joins * 0.4),
      };
      yield row(queueId, "queue", "hour", hour, period);
      days.set(queueId, add(days.get(queueId), period, Math.max));
      // The application's line is its queues' lines at once: their sum.
      application = add(application, period, (a, b) => a + b);
      if (dayEnds) {
        const sum = days.get(queueId);
        if (sum !== undefined) yield row(queueId, "queue", "day", day, sum);
        days.delete(queueId);
      }
    }
    if (application === undefined) continue;
    yield row(applicationId, "application", "hour", hour, application);
    days.set(applicationId, add(days.get(applicationId), application, Math.max));
    if (dayEnds) {
      const sum = days.get(applicationId);
      if (sum !== undefined) yield row(applicationId, "application", "day", day, sum);
      days.delete(applicationId);
    }
  }
}

function openRecord(target: Target): KyselyStore {
  return target.record.kind === "sqlite"
    ? openSqliteStore(target.record.path)
    : openPostgresStore(target.record.url, { poolSize: 2 });
}

async function setUpSite(
  target: Target,
): Promise<{ token: string; applicationId: string; queueIds: string[] }> {
  const base = target.adminUrl;
  const token = await adminToken(target);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const application = await call(
    `${base}/applications/`,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        name: "analytics",
        domain: "shop.example.com",
        callback_url: "http://127.0.0.1:9/cb",
      }),
    },
    201,
  );
  const applicationId = stringField(application, "id");
  const queueIds: string[] = [];
  for (let i = 0; i < QUEUES; i++) {
    const queue = await call(
      `${base}/queues/`,
      {
        method: "POST",
        headers,
        body: JSON.stringify({
          application_id: applicationId,
          name: `queue ${i + 1}`,
          max_users_per_minute: 700,
        }),
      },
      201,
    );
    queueIds.push(stringField(queue, "id"));
  }
  return { token, applicationId, queueIds };
}

interface Question {
  name: string;
  path: string;
}

interface Timing {
  name: string;
  median_ms: number;
  p95_ms: number;
  bytes: number;
  buckets: number;
}

async function time(target: Target, token: string, question: Question): Promise<Timing> {
  const url = `${target.adminUrl}${question.path}`;
  const once = async (): Promise<{ ms: number; bytes: number; buckets: number }> => {
    const started = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`${question.path}: ${response.status} ${text}`);
    const body = JSON.parse(text) as { series: unknown[] };
    return { ms, bytes: text.length, buckets: body.series.length };
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const runs: number[] = [];
  let last = { ms: 0, bytes: 0, buckets: 0 };
  for (let i = 0; i < REQUESTS; i++) {
    last = await once();
    runs.push(last.ms);
  }
  runs.sort((a, b) => a - b);
  const at = (q: number) => runs[Math.min(runs.length - 1, Math.ceil(q * runs.length) - 1)] ?? Number.NaN;
  return {
    name: question.name,
    median_ms: Math.round(at(0.5) * 10) / 10,
    p95_ms: Math.round(at(0.95) * 10) / 10,
    bytes: last.bytes,
    buckets: last.buckets,
  };
}

export async function runAnalyticsBench(mode: Mode, options: TargetOptions = {}): Promise<number> {
  log(`starting Anteroom (${mode})`);
  const target = await startTarget(mode, options);
  try {
    const { token, applicationId, queueIds } = await setUpSite(target);
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + HOUR_MS;
    log(
      `writing ${DAYS} days × 24 hours × ${QUEUES} queues of rollups (${VISITORS_PER_DAY.toLocaleString("en")} visitors a day)`,
    );
    const record = openRecord(target);
    let rows = 0;
    let visitors = 0;
    try {
      let chunk: QueueRollupsTable[] = [];
      const flush = async () => {
        if (chunk.length > 0) await record.db.insertInto("queue_rollups").values(chunk).execute();
        chunk = [];
      };
      for (const row of rollupRows(applicationId, queueIds, end)) {
        rows++;
        if (row.span === "hour" && row.level === "queue") visitors += row.joins;
        chunk.push(row);
        if (chunk.length === 500) await flush();
      }
      await flush();
    } finally {
      await record.close();
    }
    log(`${rows} rows, ${visitors.toLocaleString("en")} visitors; timing ${REQUESTS} requests per question`);
    const app = `app_id=${applicationId}`;
    const questions: Question[] = [
      { name: "90 days by day", path: `/dashboard/analytics?${app}&days=90&granularity=day` },
      { name: "90 days by hour", path: `/dashboard/analytics?${app}&days=90&granularity=hour` },
      { name: "7 days by hour", path: `/dashboard/analytics?${app}&days=7&granularity=hour` },
      {
        name: "one queue, 90 days by day",
        path: `/dashboard/analytics?${app}&queue_id=${queueIds[0]}&days=90`,
      },
      {
        name: "one queue, 90 days by hour",
        path: `/dashboard/analytics?${app}&queue_id=${queueIds[0]}&days=90&granularity=hour`,
      },
    ];
    const timings: Timing[] = [];
    for (const question of questions) {
      const timing = await time(target, token, question);
      timings.push(timing);
      const verdict = timing.p95_ms < TARGET_P95_MS ? "PASS" : "FAIL";
      process.stdout.write(
        `${timing.name.padEnd(28)} median ${String(timing.median_ms).padStart(6)} ms  p95 ${String(timing.p95_ms).padStart(6)} ms  ` +
          `(${timing.buckets} buckets, ${Math.round(timing.bytes / 1024)} KiB)  ${verdict} p95 < ${TARGET_P95_MS} ms\n`,
      );
    }
    const pass = timings.every((timing) => timing.p95_ms < TARGET_P95_MS);
    process.stdout.write(
      `${JSON.stringify({ bench: "analytics", mode, describe: target.describe, days: DAYS, queues: QUEUES, visitors_per_day: VISITORS_PER_DAY, rows, visitors, timings, target_p95_ms: TARGET_P95_MS, pass })}\n`,
    );
    return pass ? 0 : 1;
  } catch (error) {
    const tail = target.tail();
    if (tail !== "") log(`the server's last output:\n${tail}`);
    throw error;
  } finally {
    await target.stop();
  }
}
