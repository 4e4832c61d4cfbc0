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
 * The chunk operations are in chunks.ts, the slot bookkeeping (Fenwick tree, lower bound) in fenwick.ts.
 *
 * add throws RangeError for a seq outside [1, 2^40] or a heartbeat not a uint32, touch for such a
 * heartbeat; the read-only queries, touch and remove treat an invalid seq as absent.
 */

import { checkBeat, checkSeq, isSeq, MAX_SEQ } from "../limits.js";
import { ARRAY_OVERHEAD, CHUNK, collectFrom, LINE_CHUNK_WORDS, membersBelow, WORDS } from "./chunks.js";
import { addAt, appendEmpty, lowerBound, prefixSum, rebuildTree } from "./fenwick.js";

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
      c = this.#spare ?? new Uint32Array(LINE_CHUNK_WORDS);
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
    addAt(this.#tree, s, this.#slots, 1);
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
    addAt(this.#tree, s, this.#slots, -1);
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
    const s = lowerBound(this.#keys, this.#slots, k);
    const r = prefixSum(this.#tree, s);
    const c = s < this.#slots && this.#keys[s] === k ? this.#chunks[s] : undefined;
    if (c === undefined) return r;
    return r + membersBelow(c, q - k * CHUNK, this.#counts[s] ?? 0);
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
      live * (LINE_CHUNK_WORDS * 4 + ARRAY_OVERHEAD) +
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
      if (collectFrom(c, base, after, cutoff, out, max)) return out;
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
    const s = lowerBound(this.#keys, this.#slots, k);
    if (s === this.#slots || this.#keys[s] !== k) return -1;
    this.#hint = s;
    return s;
  }

  /** Creates an empty, chunkless slot for chunk k and returns its index. */
  #insertSlot(k: number): number {
    const n = this.#slots;
    if (n === this.#keys.length) this.#resize(n * 2);
    const s = lowerBound(this.#keys, n, k);
    this.#keys.copyWithin(s + 1, s, n);
    this.#counts.copyWithin(s + 1, s, n);
    this.#keys[s] = k;
    this.#counts[s] = 0;
    this.#chunks.splice(s, 0, undefined);
    this.#slots = n + 1;
    this.#drained++;
    // Appending is the usual case, and needs only the new node.
    if (s === n) appendEmpty(this.#tree, n);
    else rebuildTree(this.#tree, this.#counts, this.#slots);
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
    rebuildTree(this.#tree, this.#counts, this.#slots);
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
}
