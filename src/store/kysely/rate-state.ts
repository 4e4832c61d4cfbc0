import type { RateLimitState, ReleaseRun } from "../../domain/gcra.js";
import type { RateState } from "../../domain/release-plan.js";
import type { RateStateTable } from "../schema.js";

/**
 * The release record as JSON, runs as arrays of their six numbers (the column is rewritten at every
 * release round): {"from": recordedFrom (null: ever), "runs": [[from, step, first, n, late, at], ...]}.
 */
function encodeRecent(state: RateLimitState): string {
  return JSON.stringify({
    // JSON has no infinities: -Infinity (recorded ever) is null; +Infinity (not yet) never reaches here.
    from:
      state.recordedFrom === Number.NEGATIVE_INFINITY ? null : Math.min(state.recordedFrom, Number.MAX_VALUE),
    runs: state.recent.map((run) => [run.from, run.step, run.first, run.n, run.late, run.at]),
  });
}

/**
 * Null (a row written before the column existed) or anything unreadable: not recording yet, so missed
 * slots are not made up until a whole window has been recorded.
 */
function decodeRecent(text: string | null): Pick<RateLimitState, "recent" | "recordedFrom"> {
  const unknown = { recent: [], recordedFrom: Number.POSITIVE_INFINITY };
  if (text === null) return unknown;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unknown;
  }
  if (typeof parsed !== "object" || parsed === null || !("from" in parsed) || !("runs" in parsed))
    return unknown;
  const from = parsed.from;
  if ((from !== null && typeof from !== "number") || !Array.isArray(parsed.runs)) return unknown;
  const recent: ReleaseRun[] = [];
  for (const entry of parsed.runs as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 6) return unknown;
    const [start, step, first, n, late, at] = entry as unknown[];
    if (
      typeof start !== "number" ||
      typeof step !== "number" ||
      typeof first !== "number" ||
      typeof n !== "number" ||
      typeof late !== "number" ||
      typeof at !== "number"
    )
      return unknown;
    recent.push({ from: start, step, first, n, late, at });
  }
  return { recent, recordedFrom: from ?? Number.NEGATIVE_INFINITY };
}

export function rateStateOf(row: RateStateTable): RateState {
  return {
    tatMs: Number(row.tat_ms),
    ...decodeRecent(row.release_window),
    meter: {
      released: Number(row.meter_released),
      busyMs: Number(row.meter_busy_ms),
      at: row.meter_at === null ? undefined : Number(row.meter_at),
    },
  };
}

export function rateStateRow(subjectId: string, state: RateState): RateStateTable {
  return {
    subject_id: subjectId,
    tat_ms: state.tatMs,
    release_window: encodeRecent(state),
    meter_released: state.meter.released,
    meter_busy_ms: state.meter.busyMs,
    meter_at: state.meter.at ?? null,
  };
}
