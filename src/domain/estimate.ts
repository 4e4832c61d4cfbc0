/**
 * Wait estimates from what the queue actually does. Each release round feeds the queue's meter with the
 * releases it made and whether visitors were waiting meanwhile; the measured rate is releases per minute
 * of busy time, exponentially weighted (half-life one minute) so it follows changes within a minute or two.
 * Until a queue has been busy long enough to measure, the configured rate is used.
 */
const HALF_LIFE_MS = 60_000;
const MIN_BUSY_MS = 15_000;
/** The longest gap between two looks at a queue still counted as busy time (see wasBusy). */
const MAX_BUSY_GAP_MS = 2_000;

export interface MeterState {
  released: number;
  busyMs: number;
  at: number | undefined;
}

export function emptyMeter(): MeterState {
  return { released: 0, busyMs: 0, at: undefined };
}

export function recordReleases(meter: MeterState, now: number, released: number, busy: boolean): MeterState {
  if (meter.at === undefined) return { released: busy ? released : 0, busyMs: 0, at: now };
  const elapsed = Math.max(0, now - meter.at);
  const decay = 2 ** (-elapsed / HALF_LIFE_MS);
  return {
    released: meter.released * decay + released,
    busyMs: meter.busyMs * decay + (busy ? elapsed : 0),
    at: now,
  };
}

/**
 * Whether the time since the meter's last look was busy: visitors wait now, and the last look was recent
 * (rounds skip an application with nobody waiting, so a long gap between looks was idle time).
 */
export function wasBusy(meter: MeterState, now: number, waiting: number): boolean {
  const gap = meter.at === undefined ? 0 : now - meter.at;
  return waiting > 0 && gap <= MAX_BUSY_GAP_MS;
}

/** Measured releases per minute, or undefined while there is too little busy time to say. */
export function measuredPerMinute(meter: MeterState): number | undefined {
  if (meter.busyMs < MIN_BUSY_MS) return undefined;
  return (meter.released / meter.busyMs) * 60_000;
}

/** The rate a queue can actually get: its own, capped by its application's shared intake. */
export function configuredPerMinute(queueRate: number, applicationRate: number | null): number {
  return applicationRate === null ? queueRate : Math.min(queueRate, applicationRate);
}

/** Seconds until a visitor at `position` is released, at `perMinute` releases a minute. */
export function estimateWaitSeconds(position: number, perMinute: number): number {
  if (position <= 0) return 0;
  if (perMinute <= 0) return Number.MAX_SAFE_INTEGER;
  return Math.ceil((position * 60) / perMinute);
}

/**
 * When to poll again: often near the front (so the release is noticed within seconds), rarely far back,
 * and always well within the abandonment window (a poll is the visitor's heartbeat).
 */
export function pollAfterSeconds(waitSeconds: number, abandonAfterSeconds: number): number {
  const ceiling = Math.max(2, Math.min(30, Math.floor(abandonAfterSeconds / 4)));
  return Math.max(2, Math.min(ceiling, Math.round(waitSeconds / 5)));
}
