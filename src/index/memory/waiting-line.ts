/**
 * In-process hot index of one queue's waiting visitors, keyed by ticket number (seq).
 *
 * Seqs are grouped into chunks of 4096 consecutive numbers. A live chunk is a single Uint32Array:
 * 128 words of membership bitset followed by 4096 heartbeats, so a densely filled queue costs about
 * 4.1 bytes per visitor and there are no per-visitor objects for the GC to trace.
 *
 * Chunks live in "slots" kept sorted by chunk number. Slots are not indexed by chunk number directly
 * because a single stray seq near 2^40 would then force a 2^28-entry table. A Fenwick tree over slot
 * member counts gives the number of members in all lower chunks in O(log slots); within the chunk the
 * bitset is popcounted from whichever end is nearer. A drained chunk's array is released (one is kept
 * as a spare, since a FIFO queue drains at the head while filling at the tail) but its slot stays so
 * indices remain stable; slots are compacted once drained ones outnumber live ones.
 *
 * Invalid input to add/touch (seq outside [1, 2^40], heartbeat not a uint32) throws RangeError; the
 * read-only queries and remove treat an invalid seq as absent.
 */

import { checkBeat, checkSeq, isSeq, MAX_SEQ } from "../limits.js";

const CHUNK = 4096;
const WORDS = CHUNK / 32;
const CHUNK_WORDS = WORDS + CHUNK;
// Rough V8 cost of a typed array's JS object and backing-store header.
const ARRAY_OVERHEAD = 96;

function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export class WaitingLine {
  #keys = new Int32Array(8); // chunk number per slot, ascending; 2^40 / 4096 fits in int32
  #counts = new Int32Array(8);
  #tree = new Int32Array(9); // 1-based Fenwick tree over #counts[0 .. #slots)
  #chunks: (Uint32Array | undefined)[] = [];
  #slots = 0;
  #drained = 0; // slots without a chunk
  #lo = 0; // every slot below this is empty
  #hint = 0; // last slot looked up; consecutive operations usually hit the same chunk
  #size = 0;
  #spare: Uint32Array | undefined;

  /** Number of waiting members. */
  get size(): number {
    return this.#size;
  }

  /** Adds seq with heartbeat seenAt; false if already present. Any order works, ascending is fastest. */
  add(seq: number, seenAt: number): boolean {
    checkSeq(seq);
    checkBeat(seenAt);
    const k = Math.floor(seq / CHUNK);
    const off = seq - k * CHUNK;
    let s = this.#slotOf(k);
    if (s < 0) s = this.#insertSlot(k);
    let c = this.#chunks[s];
    if (c === undefined) {
      // A drained chunk's bitset is already all zero and absent members' heartbeats are never read.
      c = this.#spare ?? new Uint32Array(CHUNK_WORDS);
      this.#spare = undefined;
      this.#chunks[s] = c;
      this.#drained--;
    }
    const w = off >>> 5;
    const word = c[w] ?? 0; // `?? 0` only satisfies noUncheckedIndexedAccess: indices here are in range
    const bit = 1 << (off & 31);
    if ((word & bit) !== 0) return false;
    c[w] = word | bit;
    c[WORDS + off] = seenAt;
    this.#counts[s] = (this.#counts[s] ?? 0) + 1;
    this.#bump(s, 1);
    this.#size++;
    if (s < this.#lo) this.#lo = s;
    return true;
  }

  has(seq: number): boolean {
    return this.#chunkOf(seq) !== undefined;
  }

  /** False if seq was not present. */
  remove(seq: number): boolean {
    const c = this.#chunkOf(seq);
    if (c === undefined) return false;
    const s = this.#hint;
    const off = seq % CHUNK;
    const w = off >>> 5;
    c[w] = (c[w] ?? 0) & ~(1 << (off & 31));
    this.#size--;
    this.#bump(s, -1);
    const left = (this.#counts[s] ?? 0) - 1;
    this.#counts[s] = left;
    if (left === 0) this.#drain(s);
    return true;
  }

  /** Members with a smaller seq (position - 1); defined for absent and non-integer seqs too. */
  rank(seq: number): number {
    if (!(seq > 1)) return 0; // also maps NaN to 0 rather than propagating it
    if (seq > MAX_SEQ) return this.#size;
    const q = Math.ceil(seq); // members below a fractional seq are those below its ceiling
    const k = Math.floor(q / CHUNK);
    const s = this.#lowerBound(k);
    let r = this.#prefix(s);
    const c = s < this.#slots && this.#keys[s] === k ? this.#chunks[s] : undefined;
    if (c === undefined) return r;
    const off = q - k * CHUNK;
    const w = off >>> 5;
    const low = ~(-1 << (off & 31));
    if (w < WORDS / 2) {
      for (let i = 0; i < w; i++) r += popcount(c[i] ?? 0);
      return r + popcount((c[w] ?? 0) & low);
    }
    let above = popcount((c[w] ?? 0) & ~low);
    for (let i = w + 1; i < WORDS; i++) above += popcount(c[i] ?? 0);
    return r + (this.#counts[s] ?? 0) - above;
  }

  /** Sets a present member's heartbeat; no-op if absent. */
  touch(seq: number, seenAt: number): void {
    checkBeat(seenAt);
    const c = this.#chunkOf(seq);
    if (c !== undefined) c[WORDS + (seq % CHUNK)] = seenAt;
  }

  seenAt(seq: number): number | undefined {
    const c = this.#chunkOf(seq);
    return c === undefined ? undefined : c[WORDS + (seq % CHUNK)];
  }

  /** The `limit` smallest members, ascending. */
  head(limit: number): number[] {
    return this.#collect(limit, Number.POSITIVE_INFINITY);
  }

  /** Up to `limit` members with heartbeat < cutoff, ascending. */
  staleBefore(cutoff: number, limit: number): number[] {
    return this.#collect(limit, cutoff);
  }

  /** Up to `limit` members greater than `seq`, ascending (paging through the line). */
  after(seq: number, limit: number): number[] {
    return this.#collect(limit, Number.POSITIVE_INFINITY, seq);
  }

  /** Estimated bytes held, counting V8 per-array overhead; tracks measured heap growth within a few %. */
  memoryBytes(): number {
    const live = this.#slots - this.#drained + (this.#spare === undefined ? 0 : 1);
    return (
      live * (CHUNK_WORDS * 4 + ARRAY_OVERHEAD) +
      this.#keys.byteLength +
      this.#counts.byteLength +
      this.#tree.byteLength +
      3 * ARRAY_OVERHEAD +
      this.#keys.length * 8 + // #chunks pointer array, same capacity as #keys
      128 // the instance and its scalar fields
    );
  }

  /** Ascending members > after with heartbeat < cutoff, up to limit; cutoff = +Infinity means every member. */
  #collect(limit: number, cutoff: number, after = 0): number[] {
    const out: number[] = [];
    const max = Math.min(Math.floor(limit), this.#size);
    if (!(max > 0) || !(cutoff > 0)) return out;
    for (let s = this.#lo; s < this.#slots; s++) {
      const c = this.#chunks[s];
      if (c === undefined) continue;
      const base = (this.#keys[s] ?? 0) * CHUNK;
      if (base + CHUNK <= after) continue;
      for (let w = 0; w < WORDS; w++) {
        let x = c[w] ?? 0;
        if (x === 0) continue;
        const at = w * 32;
        if (x === 0xffffffff) {
          // Dense queues are mostly full words: a plain loop beats peeling bits one at a time.
          for (let b = 0; b < 32; b++) {
            if ((c[WORDS + at + b] ?? 0) < cutoff && base + at + b > after) {
              out.push(base + at + b);
              if (out.length === max) return out;
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
            if (out.length === max) return out;
          }
        }
      }
    }
    return out;
  }

  /** The chunk holding seq if seq is a member (leaving its slot in #hint), else undefined. */
  #chunkOf(seq: number): Uint32Array | undefined {
    if (!isSeq(seq)) return undefined;
    const k = Math.floor(seq / CHUNK);
    const s = this.#slotOf(k);
    if (s < 0) return undefined;
    const c = this.#chunks[s];
    const off = seq - k * CHUNK;
    if (c === undefined || ((c[off >>> 5] ?? 0) & (1 << (off & 31))) === 0) return undefined;
    return c;
  }

  #slotOf(k: number): number {
    const h = this.#hint;
    if (h < this.#slots && this.#keys[h] === k) return h;
    const s = this.#lowerBound(k);
    if (s === this.#slots || this.#keys[s] !== k) return -1;
    this.#hint = s;
    return s;
  }

  #lowerBound(k: number): number {
    let lo = 0;
    let hi = this.#slots;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#keys[mid] ?? 0) < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Members in slots [0, s). */
  #prefix(s: number): number {
    let sum = 0;
    for (let i = s; i > 0; i -= i & -i) sum += this.#tree[i] ?? 0;
    return sum;
  }

  #bump(s: number, delta: number): void {
    const t = this.#tree;
    for (let i = s + 1; i <= this.#slots; i += i & -i) t[i] = (t[i] ?? 0) + delta;
  }

  /** Creates an empty, chunkless slot for chunk k and returns its index. */
  #insertSlot(k: number): number {
    const n = this.#slots;
    if (n === this.#keys.length) this.#resize(n * 2);
    const s = this.#lowerBound(k);
    this.#keys.copyWithin(s + 1, s, n);
    this.#counts.copyWithin(s + 1, s, n);
    this.#keys[s] = k;
    this.#counts[s] = 0;
    this.#chunks.splice(s, 0, undefined);
    this.#slots = n + 1;
    this.#drained++;
    if (s === n) {
      // Appending (the usual case): node i sums slots (i - lowbit(i), i], the last being the new
      // empty one, so it is the difference of two prefixes already in the tree.
      const i = n + 1;
      this.#tree[i] = this.#prefix(n) - this.#prefix(i - (i & -i));
    } else {
      this.#rebuildTree();
    }
    // Slots below #lo are all empty before and after the shift, so #lo stays a valid bound.
    this.#hint = s;
    return s;
  }

  #drain(s: number): void {
    this.#spare = this.#chunks[s];
    this.#chunks[s] = undefined;
    this.#drained++;
    while (this.#lo < this.#slots && this.#counts[this.#lo] === 0) this.#lo++;
    if (this.#drained > 8 && this.#drained * 2 > this.#slots) this.#compact();
  }

  #compact(): void {
    let n = 0;
    for (let s = 0; s < this.#slots; s++) {
      const c = this.#chunks[s];
      if (c === undefined) continue;
      this.#keys[n] = this.#keys[s] ?? 0;
      this.#counts[n] = this.#counts[s] ?? 0;
      this.#chunks[n] = c;
      n++;
    }
    this.#chunks.length = n;
    this.#slots = n;
    this.#drained = 0;
    this.#lo = 0;
    this.#hint = 0;
    let cap = 8;
    while (cap < n * 2) cap *= 2;
    if (cap < this.#keys.length) this.#resize(cap);
    this.#rebuildTree();
  }

  #resize(cap: number): void {
    const keys = new Int32Array(cap);
    const counts = new Int32Array(cap);
    keys.set(this.#keys.subarray(0, this.#slots));
    counts.set(this.#counts.subarray(0, this.#slots));
    this.#keys = keys;
    this.#counts = counts;
    const tree = new Int32Array(cap + 1);
    tree.set(this.#tree.subarray(0, this.#slots + 1));
    this.#tree = tree;
  }

  #rebuildTree(): void {
    const n = this.#slots;
    const t = this.#tree;
    t.fill(0);
    for (let i = 1; i <= n; i++) {
      const v = (t[i] ?? 0) + (this.#counts[i - 1] ?? 0);
      t[i] = v;
      const j = i + (i & -i);
      if (j <= n) t[j] = (t[j] ?? 0) + v;
    }
  }
}
