/**
 * When to announce a position change through the polite live region: screen-reader users should hear
 * progress, not a number every two seconds. Announced: the first position, then at most every
 * 30 s, sooner on a big change (a fifth of the line or more, or reaching the front three);
 * an ended place (released, cancelled, expired) always, at once.
 */
/** At most one announcement in this long, unless the change is big. */
const INTERVAL_MS = 30_000;
/** A change of at least this fraction of the last announced position is big. */
const BIG_FRACTION = 0.2;
/** Positions at or below this are always worth hearing. */
const FRONT = 3;

export class Announcer {
  private _lastPosition: number | undefined;
  private _lastAt = -Infinity;
  private _lastEnded: string | undefined;

  /** Whether a waiting position seen at `now` should be announced (and records it when so). */
  position(position: number, now: number): boolean {
    const last = this._lastPosition;
    let speak: boolean;
    if (last === undefined) speak = true;
    else if (position === last) speak = false;
    else if (now - this._lastAt >= INTERVAL_MS) speak = true;
    else if (position <= FRONT) speak = true;
    else speak = Math.abs(last - position) >= Math.max(1, last * BIG_FRACTION);
    if (speak) {
      this._lastPosition = position;
      this._lastAt = now;
    }
    return speak;
  }

  /** An ended place is announced once per state. */
  ended(state: string): boolean {
    if (this._lastEnded === state) return false;
    this._lastEnded = state;
    return true;
  }
}

/**
 * Retry delay after `attempt` failures in a row (1-based): exponential from `baseMs`, capped at `maxMs`,
 * with equal jitter (half fixed, half random) so that visitors cut off together do not return together.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The next poll: the server's hint (seconds) within 1..60 s, jittered by up to a tenth. */
export function pollDelayMs(pollAfterSeconds: number | null, random: () => number): number {
  const seconds = Math.min(60, Math.max(1, pollAfterSeconds ?? 5));
  return Math.round(seconds * 1000 * (0.9 + random() * 0.1));
}
