/**
 * Release rate: a GCRA schedule (generic cell rate algorithm) bounded by a trailing 60 s window.
 *
 * Schedule. Releases are spaced one emission interval T = 60 000 / rate ms apart; the schedule's state is the
 * theoretical arrival time (TAT) of the next slot. A worker that looks at time `now` may release every slot
 * TAT, TAT + T, ... up to `now`. Slots missed while visitors were waiting (a worker stalled, or woke late on
 * a loaded machine) are kept, up to CATCH_UP_MS of them, and released as soon as the window allows. Slots
 * from before the oldest visitor now waiting joined were idle, not missed: they are skipped, so visitors
 * arriving at an idle queue get no burst.
 *
 * Window. Slots alone allow (L + lateness) / T + 1 releases in a span of L, so a schedule that catches up
 * cannot keep 60 s windows at rate + 1 by itself. A release at time t is therefore allowed only while the
 * releases in (t - 60 s, t] number at most rate + 1; every 60 s window then holds at most rate + 1 (the
 * fullest window ends at a release). After a stall the trailing window holds the gap, so what was missed
 * goes out at once; a minute later the gap's echo defers as many releases as that burst, which go out when
 * the burst leaves the window. Over time the count stays on the schedule: rate x time.
 *
 * The record of recent releases (ReleaseRun) is compact and conservative: it bounds when releases happened
 * from above, so it may count a release as still in the window when it has left (which defers the next one,
 * whose slot the schedule keeps) but never the reverse.
 */
export const WINDOW_MS = 60_000;
/** Slots missed while visitors waited are made up for this long; older ones are skipped. */
export const CATCH_UP_MS = WINDOW_MS;
/** Beyond this many runs, the two whose merge loosens the record least are merged. */
const MAX_RUNS = 32;
/** Runs are merged while that loosens no bound by more than max(T, this): harmless (see recordRelease). */
const MERGE_TOLERANCE_MS = 10;
/** Margin on recorded bounds, far above floating-point error on epoch milliseconds (about 0.0002 ms). */
const BOUND_MARGIN_MS = 0.01;

export function emissionIntervalMs(perMinute: number): number {
  return 60_000 / perMinute;
}

/**
 * `n` releases numbered first, first + 1, ...; release j happened no later than
 * min(at, from + j * step + late). Runs follow the schedule (`from` is a slot, `step` the interval), so
 * releases on time are described by their worst lateness and a burst by the time it went out.
 */
export interface ReleaseRun {
  from: number;
  step: number;
  first: number;
  n: number;
  late: number;
  at: number;
}

export interface RateLimitState {
  tatMs: number;
  /** Releases of the last minute or so, oldest first. */
  recent: ReleaseRun[];
  /**
   * `recent` holds every release since this time (-Infinity: ever; +Infinity: not recording yet, as for
   * state stored before it was kept). Until it covers a whole window, missed slots are not made up.
   */
  recordedFrom: number;
}

/** A subject never released from. */
export function freshRateState(): RateLimitState {
  return { tatMs: 0, recent: [], recordedFrom: Number.NEGATIVE_INFINITY };
}

export interface Allowance {
  /** How many may be released now: due on the schedule, and room in the window. */
  due: number;
  /** The slot the first of them occupies; after releasing n, TAT becomes base + n * T. */
  base: number;
  intervalMs: number;
}

/**
 * What may be released at `now`. `waitingSince` is when the oldest visitor still waiting joined (undefined:
 * nobody waits); slots before it are not made up. Capped at `now`: another process's clock may run ahead.
 */
export function allowance(
  state: RateLimitState,
  perMinute: number,
  now: number,
  waitingSince: number | undefined,
): Allowance {
  const intervalMs = emissionIntervalMs(perMinute);
  // With releases of the last minute unrecorded, only lateness under one interval is safe (the schedule's
  // own bound); that was the rule before the window was kept.
  const catchUp = now - state.recordedFrom >= WINDOW_MS ? CATCH_UP_MS : intervalMs * 0.99;
  const base =
    state.tatMs > now
      ? state.tatMs
      : Math.max(state.tatMs, now - catchUp, Math.min(waitingSince ?? now, now));
  const scheduled = base > now ? 0 : Math.floor((now - base) / intervalMs) + 1;
  const room = perMinute + 1 - inWindow(state.recent, now - WINDOW_MS);
  return { due: Math.max(0, Math.min(scheduled, room)), base, intervalMs };
}

/** The state after a round that released `released` of what `allowed` offered at `now`. */
export function recordRelease(
  state: RateLimitState,
  allowed: Allowance,
  released: number,
  now: number,
): RateLimitState {
  // Only from the front: a run later in line may be out of the window while an earlier, looser one is not,
  // and dropping it would leave a gap in the slots between its neighbours that a merge must then cover.
  const runs = [...state.recent];
  for (let head = runs[0]; head !== undefined; head = runs[0]) {
    const kept = trim(head, now - WINDOW_MS);
    if (kept === undefined) runs.shift();
    else {
      runs[0] = kept;
      break;
    }
  }
  if (released > 0) {
    // Exact: every release of this round happened at `now` (the bound's linear part is >= now for all).
    const fresh: ReleaseRun = {
      from: allowed.base,
      step: allowed.intervalMs,
      first: 0,
      n: released,
      late: now - allowed.base + BOUND_MARGIN_MS,
      at: now,
    };
    // Loosening a bound by up to T is what the schedule's own +1 absorbs (releases up to T late never fill
    // a window); by a few ms it only delays a deferred release by as much. So on-time rounds share a run.
    const last = runs.at(-1);
    const tolerance = Math.max(allowed.intervalMs, MERGE_TOLERANCE_MS);
    if (last !== undefined && mergeCost(last, fresh) <= tolerance) runs[runs.length - 1] = merge(last, fresh);
    else runs.push(fresh);
  }
  while (runs.length > MAX_RUNS) mergeCheapest(runs);
  return {
    tatMs: allowed.base + released * allowed.intervalMs,
    recent: runs,
    recordedFrom: Math.min(state.recordedFrom, now),
  };
}

/** When the subject could release again (given visitors waiting): its next slot, and room in the window. */
export function nextAllowedAt(state: RateLimitState, perMinute: number, now: number): number {
  return Math.max(state.tatMs, windowFreeAt(state.recent, perMinute, now));
}

/** How many recorded releases may have happened after `after`. */
export function inWindow(runs: readonly ReleaseRun[], after: number): number {
  let count = 0;
  for (const run of runs) count += run.n - surelyBefore(run, after);
  return count;
}

/** The earliest time from `now` at which the window has room for one more release. */
export function windowFreeAt(runs: readonly ReleaseRun[], perMinute: number, now: number): number {
  if (inWindow(runs, now - WINDOW_MS) <= perMinute) return now;
  // The count is non-increasing in time and 0 at `now` (no bound exceeds its run's `at`): bisect to 1 ms.
  let lo = now - WINDOW_MS;
  let hi = now;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (inWindow(runs, mid) <= perMinute) hi = mid;
    else lo = mid;
  }
  return hi + WINDOW_MS;
}

function bound(run: ReleaseRun, j: number): number {
  return Math.min(run.at, run.from + j * run.step + run.late);
}

/** How many of the run's releases surely happened at or before `time`: a prefix, since bounds rise with j. */
function surelyBefore(run: ReleaseRun, time: number): number {
  if (run.at <= time) return run.n;
  const last = Math.floor((time - run.from - run.late) / run.step);
  return Math.max(0, Math.min(run.n, last - run.first + 1));
}

function trim(run: ReleaseRun, horizon: number): ReleaseRun | undefined {
  const gone = surelyBefore(run, horizon);
  if (gone >= run.n) return undefined;
  return gone === 0 ? run : { ...run, first: run.first + gone, n: run.n - gone };
}

/** One run bounding both: b's releases continue a's numbering; `late` grows to cover b's bounds. */
function merge(a: ReleaseRun, b: ReleaseRun): ReleaseRun {
  const offset = a.first + a.n - b.first;
  // Linear in j, so its largest value is at one end of b.
  const needed = (j: number) => b.from + j * b.step + b.late - (a.from + (j + offset) * a.step);
  const late = Math.max(a.late, needed(b.first), needed(b.first + b.n - 1));
  return { from: a.from, step: a.step, first: a.first, n: a.n + b.n, late, at: Math.max(a.at, b.at) };
}

/** The most any release's bound moves later when a and b are merged. */
function mergeCost(a: ReleaseRun, b: ReleaseRun): number {
  const merged = merge(a, b);
  return Math.max(loosening(a, merged, 0), loosening(b, merged, a.first + a.n - b.first));
}

/**
 * Largest bound(merged, j + offset) - bound(original, j) over the original's releases. Both bounds are a
 * line capped by `at`, so the difference is piecewise linear: its maximum is at an end or next to a kink.
 */
function loosening(original: ReleaseRun, merged: ReleaseRun, offset: number): number {
  const lo = original.first;
  const hi = original.first + original.n - 1;
  const kinkOf = (run: ReleaseRun) => (run.at - run.from - run.late) / run.step;
  const candidates = [lo, hi];
  for (const kink of [kinkOf(original), kinkOf(merged) - offset]) {
    if (Number.isFinite(kink)) candidates.push(Math.floor(kink), Math.ceil(kink));
  }
  let worst = 0;
  for (const j of candidates) {
    if (j < lo || j > hi) continue;
    worst = Math.max(worst, bound(merged, j + offset) - bound(original, j));
  }
  return worst;
}

function mergeCheapest(runs: ReleaseRun[]): void {
  let best = 0;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 1 < runs.length; i++) {
    const a = runs[i];
    const b = runs[i + 1];
    if (a === undefined || b === undefined) continue;
    const cost = mergeCost(a, b);
    if (cost < bestCost) {
      bestCost = cost;
      best = i;
    }
  }
  const a = runs[best];
  const b = runs[best + 1];
  if (a === undefined || b === undefined) return;
  runs.splice(best, 2, merge(a, b));
}
