/**
 * Retry delay before attempt `attempt + 1`, after `attempt` failures (1-based): exponential from
 * `baseMs`, capped at `maxMs`, with "equal jitter" (half fixed, half random) so retries after an
 * outage spread out instead of arriving together.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
