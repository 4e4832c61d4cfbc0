import { Histogram, HistogramSum } from "./histogram.js";
import type { EndReason } from "./model.js";

/**
 * Analytics from hourly rollups. The worker turns a window of a queue's events (joins, releases, ends,
 * callback deliveries and dead letters) into per-hour counts and histograms (`rollUp`), adds them to what
 * the record already holds for those hours (`addRollup`), and the dashboard folds the rows of a range into
 * a day or hour series (`series`). All pure: times are ISO-8601 instants or epoch milliseconds.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export type Granularity = "day" | "hour";

/** One queue's events in a window, as the record holds them. */
export interface RollupEvents {
  /** When each newly counted visitor joined. */
  joins: readonly string[];
  releases: readonly { joined_at: string; released_at: string }[];
  ends: readonly { ended_at: string; end_reason: EndReason | null }[];
  /** Delivered callbacks: when, and how long the successful attempt took (null: not measured). */
  deliveries: readonly { delivered_at: string; duration_ms: number | null }[];
  /** When callbacks were dead-lettered (given up on after their retries). */
  deadLetters: readonly string[];
}

/** The counters of a rollup, in the record's column names. */
export const COUNT_KEYS = [
  "joins",
  "releases",
  "cancels",
  "abandoned",
  "not_seen",
  "admission_ended",
  "callbacks_delivered",
  "callbacks_failed",
] as const;
export type CountKey = (typeof COUNT_KEYS)[number];
export type Counts = Record<CountKey, number>;

export const zeroCounts = (): Counts => Object.fromEntries(COUNT_KEYS.map((key) => [key, 0])) as Counts;

/** One queue's hour: counts and histograms, as the record keeps them (peak_waiting is sampled apart). */
export interface HourCounts extends Counts {
  /** Wait from join to release, in ms. */
  wait: Histogram;
  /** How long successful callback deliveries took, in ms. */
  callbackDuration: Histogram;
}

export const hourOf = (instantMs: number): number => Math.floor(instantMs / HOUR_MS) * HOUR_MS;
export const dayOf = (instantMs: number): number => Math.floor(instantMs / DAY_MS) * DAY_MS;

export function emptyHour(): HourCounts {
  return { ...zeroCounts(), wait: new Histogram(), callbackDuration: new Histogram() };
}

/** A window's events, counted by the hour they happened in (keys: the hour's start, epoch ms). */
export function rollUp(events: RollupEvents): Map<number, HourCounts> {
  const hours = new Map<number, HourCounts>();
  const hour = (instant: string): HourCounts => {
    const key = hourOf(Date.parse(instant));
    let counts = hours.get(key);
    if (counts === undefined) {
      counts = emptyHour();
      hours.set(key, counts);
    }
    return counts;
  };
  for (const joinedAt of events.joins) hour(joinedAt).joins++;
  for (const { joined_at, released_at } of events.releases) {
    const counts = hour(released_at);
    counts.releases++;
    counts.wait.add(Math.max(0, Date.parse(released_at) - Date.parse(joined_at)));
  }
  for (const { ended_at, end_reason } of events.ends) {
    const counts = hour(ended_at);
    if (end_reason === "cancelled") counts.cancels++;
    else if (end_reason === "abandoned") counts.abandoned++;
    else if (end_reason === "not_seen") counts.not_seen++;
    else if (end_reason === "admission_ended") counts.admission_ended++;
  }
  for (const { delivered_at, duration_ms } of events.deliveries) {
    const counts = hour(delivered_at);
    counts.callbacks_delivered++;
    if (duration_ms !== null) counts.callbackDuration.add(duration_ms);
  }
  for (const createdAt of events.deadLetters) hour(createdAt).callbacks_failed++;
  return hours;
}

/** Adds `more` into `into` (counts and histograms); returns `into`. */
export function addRollup(into: HourCounts, more: HourCounts): HourCounts {
  for (const key of COUNT_KEYS) into[key] += more[key];
  into.wait.merge(more.wait);
  into.callbackDuration.merge(more.callbackDuration);
  return into;
}

/** A stored row as the dashboard reads it; histograms in their text form. */
export interface StoredHour extends Counts {
  /** Whose row (a queue or an application): peaks of different subjects add up. */
  queue_id: string;
  /** The hour's start, epoch ms. */
  hour: number;
  peak_waiting: number;
  wait_hist: string;
  callback_hist: string;
}

/** An hour's counts as stored (histograms encoded). */
export function storedHour(queue_id: string, hour: number, counts: HourCounts, peak_waiting = 0): StoredHour {
  const { wait, callbackDuration, ...rest } = counts;
  return {
    ...rest,
    queue_id,
    hour,
    peak_waiting,
    wait_hist: wait.encode(),
    callback_hist: callbackDuration.encode(),
  };
}

/** One bucket of the analytics answer. */
export interface AnalyticsPoint {
  joins: number;
  releases: number;
  cancels: number;
  expired: { abandoned: number; not_seen: number; admission_ended: number };
  /** Join-to-release wait percentiles in ms (within 4% of exact, before rounding to whole ms); null when nobody was released. */
  wait_ms: { p50: number | null; p90: number | null; p99: number | null };
  /**
   * The longest line sampled in the bucket: of the queue, or of all an application's queues at once;
   * across several applications, the sum of each one's (an upper bound of their simultaneous peak).
   */
  peak_waiting: number;
  callbacks: {
    delivered: number;
    failed: number;
    /** delivered / (delivered + failed); null when none finished. */
    success_rate: number | null;
    duration_p95_ms: number | null;
  };
}

export interface AnalyticsSeries {
  from: number;
  to: number;
  series: (AnalyticsPoint & { start: number })[];
  totals: AnalyticsPoint;
}

const round = (value: number | null): number | null => (value === null ? null : Math.round(value));

/** A bucket's sums while it is folded. */
class Fold {
  readonly counts = zeroCounts();
  readonly wait = new HistogramSum();
  readonly callbackDuration = new HistogramSum();
  /** Each subject's highest sample. */
  readonly peaks = new Map<string, number>();

  add(row: StoredHour): void {
    for (const key of COUNT_KEYS) this.counts[key] += row[key];
    this.wait.addEncoded(row.wait_hist);
    this.callbackDuration.addEncoded(row.callback_hist);
    this.peak(row.queue_id, row.peak_waiting);
  }

  addFold(other: Fold): void {
    for (const key of COUNT_KEYS) this.counts[key] += other.counts[key];
    this.wait.addSum(other.wait);
    this.callbackDuration.addSum(other.callbackDuration);
    for (const [queue, peak] of other.peaks) this.peak(queue, peak);
  }

  /** Back to empty, keeping its arrays (a fold is reused bucket after bucket). */
  clear(): void {
    for (const key of COUNT_KEYS) this.counts[key] = 0;
    this.wait.clear();
    this.callbackDuration.clear();
    this.peaks.clear();
  }

  private peak(queue: string, value: number): void {
    const before = this.peaks.get(queue);
    if (before === undefined || value > before) this.peaks.set(queue, value);
  }

  point(): AnalyticsPoint {
    const c = this.counts;
    const finished = c.callbacks_delivered + c.callbacks_failed;
    let peak = 0;
    for (const value of this.peaks.values()) peak += value;
    return {
      joins: c.joins,
      releases: c.releases,
      cancels: c.cancels,
      expired: { abandoned: c.abandoned, not_seen: c.not_seen, admission_ended: c.admission_ended },
      wait_ms: {
        p50: round(this.wait.quantile(0.5)),
        p90: round(this.wait.quantile(0.9)),
        p99: round(this.wait.quantile(0.99)),
      },
      peak_waiting: peak,
      callbacks: {
        delivered: c.callbacks_delivered,
        failed: c.callbacks_failed,
        success_rate:
          finished === 0 ? null : Math.round((c.callbacks_delivered / finished) * 10_000) / 10_000,
        duration_p95_ms: round(this.callbackDuration.quantile(0.95)),
      },
    };
  }
}

/**
 * The range an analytics question covers: the last `days` UTC days, today included, up to the end of
 * today (by day) or of the current hour (by hour).
 */
export function analyticsRange(
  now: number,
  days: number,
  granularity: Granularity,
): { from: number; to: number } {
  const from = dayOf(now) - (days - 1) * DAY_MS;
  const to = granularity === "day" ? dayOf(now) + DAY_MS : hourOf(now) + HOUR_MS;
  return { from, to };
}

/**
 * Folds hourly rows (one or many queues, in any order) into buckets from `from` to `to` (every bucket
 * present, oldest first) and totals. Rows outside the range are ignored. Each bucket is summed in turn
 * and read at once, so the work is one pass over the rows' histograms whatever the range.
 */
export function series(
  rows: Iterable<StoredHour>,
  range: { from: number; to: number },
  granularity: Granularity,
): AnalyticsSeries {
  const step = granularity === "day" ? DAY_MS : HOUR_MS;
  const bucketOf = granularity === "day" ? dayOf : hourOf;
  const byBucket = new Map<number, StoredHour[]>();
  for (const row of rows) {
    if (row.hour < range.from || row.hour >= range.to) continue;
    const start = bucketOf(row.hour);
    const list = byBucket.get(start);
    if (list === undefined) byBucket.set(start, [row]);
    else list.push(row);
  }
  const total = new Fold();
  const fold = new Fold();
  const out: (AnalyticsPoint & { start: number })[] = [];
  for (let start = range.from; start < range.to; start += step) {
    for (const row of byBucket.get(start) ?? []) fold.add(row);
    out.push({ start, ...fold.point() });
    total.addFold(fold);
    fold.clear();
  }
  return { from: range.from, to: range.to, series: out, totals: total.point() };
}
