/**
 * Both in-process structures group seqs into chunks of CHUNK consecutive numbers, each with a WORDS-word
 * membership bitset, so that dense ranges cost bits rather than objects. The waiting line's chunk is one
 * Uint32Array: the bitset, then a heartbeat per seq; the operations on it are here.
 */

export const CHUNK = 4096;
export const WORDS = CHUNK / 32;
/** Words in a waiting line chunk: the bitset, then CHUNK heartbeats. */
export const LINE_CHUNK_WORDS = WORDS + CHUNK;
/** Rough V8 cost of a typed array's JS object and backing-store header. */
export const ARRAY_OVERHEAD = 96;

function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Members of a chunk holding `count` below offset `off`, popcounting from whichever end is nearer. */
export function membersBelow(c: Uint32Array, off: number, count: number): number {
  const w = off >>> 5;
  const low = ~(-1 << (off & 31));
  // `?? 0` only satisfies noUncheckedIndexedAccess: indices here are in range
  if (w < WORDS / 2) {
    let below = 0;
    for (let i = 0; i < w; i++) below += popcount(c[i] ?? 0);
    return below + popcount((c[w] ?? 0) & low);
  }
  let above = popcount((c[w] ?? 0) & ~low);
  for (let i = w + 1; i < WORDS; i++) above += popcount(c[i] ?? 0);
  return count - above;
}

/**
 * Appends to `out`, ascending, the chunk's members (chunk starts at seq `base`) greater than `after`
 * with heartbeat < cutoff, until `out` holds `max`; true once it does.
 */
export function collectFrom(
  c: Uint32Array,
  base: number,
  after: number,
  cutoff: number,
  out: number[],
  max: number,
): boolean {
  for (let w = 0; w < WORDS; w++) {
    let x = c[w] ?? 0;
    if (x === 0) continue;
    const at = w * 32;
    if (x === 0xffffffff) {
      // Dense queues are mostly full words: a plain loop beats peeling bits one at a time.
      for (let b = 0; b < 32; b++) {
        if ((c[WORDS + at + b] ?? 0) < cutoff && base + at + b > after) {
          out.push(base + at + b);
          if (out.length === max) return true;
        }
      }
      continue;
    }
    while (x !== 0) {
      const t = x & -x;
      const b = 31 - Math.clz32(t);
      x ^= t;
      if ((c[WORDS + at + b] ?? 0) < cutoff && base + at + b > after) {
        out.push(base + at + b);
        if (out.length === max) return true;
      }
    }
  }
  return false;
}
