import { describe, expect, it } from "vitest";
import { analyticsRange, DAY_MS, HOUR_MS, rollUp, series, storedHour } from "../../src/domain/analytics.js";

const T = Date.parse("2030-05-10T00:00:00.000Z");
const at = (ms: number) => new Date(T + ms).toISOString();

describe("analytics: rollups and series", () => {
  it("counts each event in the hour it happened, waits by release time", () => {
    const hours = rollUp({
      joins: [at(0), at(10), at(HOUR_MS + 5)],
      releases: [
        { joined_at: at(0), released_at: at(HOUR_MS - 1) },
        { joined_at: at(10), released_at: at(HOUR_MS + 60_000) },
      ],
      ends: [
        { ended_at: at(5), end_reason: "cancelled" },
        { ended_at: at(HOUR_MS * 2), end_reason: "abandoned" },
        { ended_at: at(HOUR_MS * 2 + 1), end_reason: "not_seen" },
        { ended_at: at(HOUR_MS * 2 + 2), end_reason: "admission_ended" },
        { ended_at: at(HOUR_MS * 2 + 3), end_reason: null },
      ],
      deliveries: [
        { delivered_at: at(HOUR_MS + 1), duration_ms: 120 },
        { delivered_at: at(HOUR_MS + 2), duration_ms: null },
      ],
      deadLetters: [at(HOUR_MS + 3)],
    });
    expect([...hours.keys()]).toEqual([T, T + HOUR_MS, T + 2 * HOUR_MS]);
    const first = hours.get(T);
    const second = hours.get(T + HOUR_MS);
    const third = hours.get(T + 2 * HOUR_MS);
    expect(first).toMatchObject({ joins: 2, releases: 1, cancels: 1 });
    expect(first?.wait.quantile(1)).toBeCloseTo(HOUR_MS - 1, -5);
    expect(second).toMatchObject({ joins: 1, releases: 1, callbacks_delivered: 2, callbacks_failed: 1 });
    expect(second?.callbackDuration.count).toBe(1);
    expect(third).toMatchObject({ abandoned: 1, not_seen: 1, admission_ended: 1, cancels: 0, joins: 0 });
  });

  it("fills every bucket of the range, oldest first, and folds hours into UTC days", () => {
    const rolled = rollUp({
      joins: [at(HOUR_MS), at(DAY_MS + 5 * HOUR_MS), at(DAY_MS + 6 * HOUR_MS)],
      releases: [{ joined_at: at(DAY_MS), released_at: at(DAY_MS + 1000) }],
      ends: [],
      deliveries: [{ delivered_at: at(0), duration_ms: 50 }],
      deadLetters: [at(1), at(2), at(3)],
    });
    const rows = [...rolled].map(([hour, counts]) => storedHour("a", hour, counts, 7));
    const [first] = rows;
    if (first !== undefined) rows.push({ ...first, queue_id: "b", hour: T + 30 * DAY_MS, peak_waiting: 99 });
    const byDay = series(rows, { from: T, to: T + 3 * DAY_MS }, "day");
    expect(byDay.series.map((p) => p.start)).toEqual([T, T + DAY_MS, T + 2 * DAY_MS]);
    expect(byDay.series.map((p) => p.joins)).toEqual([1, 2, 0]);
    expect(byDay.series[0]?.callbacks).toMatchObject({ delivered: 1, failed: 3, success_rate: 0.25 });
    expect(Math.abs((byDay.series[0]?.callbacks.duration_p95_ms ?? 0) - 50)).toBeLessThanOrEqual(2);
    expect(byDay.series[2]?.callbacks.success_rate).toBeNull();
    expect(byDay.series[2]?.wait_ms).toEqual({ p50: null, p90: null, p99: null });
    expect(Math.abs((byDay.series[1]?.wait_ms.p50 ?? 0) - 1000)).toBeLessThanOrEqual(40);
    expect(byDay.totals.joins).toBe(3);
    expect(byDay.totals.peak_waiting).toBe(7);
    const byHour = series(rows, { from: T, to: T + 2 * DAY_MS }, "hour");
    expect(byHour.series).toHaveLength(48);
    expect(byHour.series[1]?.joins).toBe(1);
    expect(byHour.series[29]?.joins).toBe(1);
  });

  it("sums the peaks of several queues, taking each queue's highest sample in the bucket", () => {
    const empty = rollUp({ joins: [at(0)], releases: [], ends: [], deliveries: [], deadLetters: [] });
    const counts = empty.get(T);
    if (counts === undefined) throw new Error("no hour");
    const row = (queue_id: string, hour: number, peak_waiting: number) =>
      storedHour(queue_id, hour, counts, peak_waiting);
    const answer = series(
      [row("a", T, 10), row("a", T + HOUR_MS, 30), row("b", T, 5), row("b", T + 2 * HOUR_MS, 1)],
      { from: T, to: T + DAY_MS },
      "day",
    );
    expect(answer.series[0]?.peak_waiting).toBe(35);
    expect(answer.totals.peak_waiting).toBe(35);
  });

  it("covers the last N UTC days, today included, up to the end of today or of this hour", () => {
    const now = T + 3 * DAY_MS + 5 * HOUR_MS + 17;
    expect(analyticsRange(now, 1, "day")).toEqual({ from: T + 3 * DAY_MS, to: T + 4 * DAY_MS });
    expect(analyticsRange(now, 7, "day")).toEqual({ from: T - 3 * DAY_MS, to: T + 4 * DAY_MS });
    expect(analyticsRange(now, 2, "hour")).toEqual({
      from: T + 2 * DAY_MS,
      to: T + 3 * DAY_MS + 6 * HOUR_MS,
    });
  });
});
