/**
 * What both hot-index adapters accept, checked the same way so they refuse the same input.
 * Seqs go up to 2^40: exact as Redis scores (doubles) and Lua numbers, and 2^40 / 4096 chunk numbers fit
 * the in-process index's Int32Array. Heartbeats are whole seconds in a uint32 (the in-process index's
 * Uint32Array), so both adapters compare the same values.
 */

export const MAX_SEQ = 2 ** 40;
export const MAX_BEAT = 0xffffffff;

export function isSeq(seq: number): boolean {
  return Number.isInteger(seq) && seq >= 1 && seq <= MAX_SEQ;
}

export function checkSeq(seq: number): void {
  if (!isSeq(seq)) throw new RangeError(`seq must be an integer in [1, 2^40], got ${seq}`);
}

export function checkBeat(beat: number): void {
  if (!Number.isInteger(beat) || beat < 0 || beat > MAX_BEAT) {
    throw new RangeError(`heartbeat must be a uint32, got ${beat}`);
  }
}

/** A heartbeat from a time in ms. */
export const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The cap on a queue's ended entries, if it is a positive integer; else a RangeError. */
export function checkEndedCap(cap: number): number {
  if (!Number.isInteger(cap) || cap < 1) {
    throw new RangeError(`ended cap must be a positive integer, got ${cap}`);
  }
  return cap;
}
