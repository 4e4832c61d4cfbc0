/**
 * One queue's recently ended (cancelled or expired) tickets in the in-process index: just enough for a late
 * poll to be answered without the record, bounded in time (prune) and in number (the cap).
 *
 * Two structures, no per-ticket objects:
 * - a ring of (seq, ended at) pairs in one Float64Array, in the order the tickets ended (16 bytes each).
 *   Pruning pops from the oldest end and stops at the first entry still young; past the cap the oldest
 *   entry goes to make room. Times are kept non-decreasing (an `at` older than the newest held is raised
 *   to it), so the ring stays sorted and popping from the front is exact.
 * - per 4096 consecutive seqs, a chunk of two bitsets (ended; and expired, else cancelled) plus a count:
 *   O(1) state lookup at 1 KiB per chunk, a quarter byte per ticket when ended tickets are dense (a join ->
 *   cancel loop). A chunk is freed when its last entry goes (one is kept as a spare).
 *
 * Ring entries and set bits correspond one to one: ending a ticket already held changes its state only, so
 * its retention runs from when it first ended. Seqs outside [1, 2^40] are never held (ignored on add).
 */

import { checkEndedCap, isSeq } from "../limits.js";
import { ARRAY_OVERHEAD, CHUNK, WORDS } from "./chunks.js";

const COUNT = 2 * WORDS; // index of the chunk's entry count
const CHUNK_WORDS = COUNT + 1;
const MIN_CAPACITY = 16;
// Rough V8 cost of one Map entry.
const MAP_ENTRY = 32;

export type EndedState = "cancelled" | "expired";

export class EndedTickets {
  readonly #cap: number;
  #ring = new Float64Array(2 * MIN_CAPACITY); // [seq, at] pairs
  #capacity = MIN_CAPACITY;
  #head = 0; // pair index of the oldest entry
  #size = 0;
  #newest = Number.NEGATIVE_INFINITY; // time of the newest entry held
  #chunks = new Map<number, Uint32Array>();
  #spare: Uint32Array | undefined;

  /** `cap`: the most entries held at once (a positive integer). */
  constructor(cap: number) {
    this.#cap = checkEndedCap(cap);
  }

  get size(): number {
    return this.#size;
  }

  state(seq: number): EndedState | undefined {
    if (!isSeq(seq)) return undefined;
    const k = Math.floor(seq / CHUNK);
    const c = this.#chunks.get(k);
    if (c === undefined) return undefined;
    const off = seq - k * CHUNK;
    const w = off >>> 5;
    const bit = 1 << (off & 31);
    // `?? 0` only satisfies noUncheckedIndexedAccess: indices here are in range
    if (((c[w] ?? 0) & bit) === 0) return undefined;
    return ((c[WORDS + w] ?? 0) & bit) === 0 ? "cancelled" : "expired";
  }

  has(seq: number): boolean {
    return this.state(seq) !== undefined;
  }

  /** Records seq as ended at `at` (ms); if already held, only its state changes. */
  add(seq: number, state: EndedState, at: number): void {
    if (!isSeq(seq)) return;
    const k = Math.floor(seq / CHUNK);
    const off = seq - k * CHUNK;
    const w = off >>> 5;
    const bit = 1 << (off & 31);
    const held = this.#chunks.get(k);
    if (held !== undefined && ((held[w] ?? 0) & bit) !== 0) {
      this.#setExpired(held, w, bit, state);
      return;
    }
    // Make room first: dropping the oldest may free the very chunk this seq belongs in.
    if (this.#size === this.#cap) this.#popOldest();
    const c = this.#chunks.get(k) ?? this.#newChunk(k);
    c[w] = (c[w] ?? 0) | bit;
    this.#setExpired(c, w, bit, state);
    c[COUNT] = (c[COUNT] ?? 0) + 1;
    if (this.#size === this.#capacity) this.#resize(Math.min(this.#capacity * 2, this.#cap));
    // A NaN time would stop pruning at this entry for good: it counts as the newest held instead.
    const time = Number.isNaN(at) ? this.#newest : Math.max(at, this.#newest);
    this.#newest = time;
    const slot = 2 * ((this.#head + this.#size) % this.#capacity);
    this.#ring[slot] = seq;
    this.#ring[slot + 1] = time;
    this.#size++;
  }

  /** Forgets entries that ended before `cutoff` (ms), oldest first; returns how many. */
  prune(cutoff: number): number {
    let removed = 0;
    while (this.#size > 0 && (this.#ring[2 * this.#head + 1] ?? 0) < cutoff) {
      this.#popOldest();
      removed++;
    }
    // Give back a ring a burst left mostly empty.
    let capacity = this.#capacity;
    while (capacity > MIN_CAPACITY && this.#size * 4 <= capacity) capacity /= 2;
    if (capacity < this.#capacity) this.#resize(Math.max(MIN_CAPACITY, Math.ceil(capacity)));
    return removed;
  }

  /** Estimated bytes held (ring, chunks, the chunk map), counting V8 per-array overhead. */
  memoryBytes(): number {
    const chunks = this.#chunks.size + (this.#spare === undefined ? 0 : 1);
    return (
      this.#ring.byteLength +
      ARRAY_OVERHEAD +
      chunks * (CHUNK_WORDS * 4 + ARRAY_OVERHEAD) +
      this.#chunks.size * MAP_ENTRY +
      128 // the instance, its Map and scalar fields
    );
  }

  #setExpired(c: Uint32Array, w: number, bit: number, state: EndedState): void {
    const i = WORDS + w;
    c[i] = state === "expired" ? (c[i] ?? 0) | bit : (c[i] ?? 0) & ~bit;
  }

  #newChunk(k: number): Uint32Array {
    // A freed chunk is all zero: every bit was cleared as its entries went.
    const c = this.#spare ?? new Uint32Array(CHUNK_WORDS);
    this.#spare = undefined;
    this.#chunks.set(k, c);
    return c;
  }

  #popOldest(): void {
    const seq = this.#ring[2 * this.#head] ?? 0;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
    if (this.#size === 0) {
      this.#head = 0;
      this.#newest = Number.NEGATIVE_INFINITY;
    }
    const k = Math.floor(seq / CHUNK);
    const c = this.#chunks.get(k);
    if (c === undefined) return;
    const off = seq - k * CHUNK;
    const w = off >>> 5;
    const keep = ~(1 << (off & 31));
    c[w] = (c[w] ?? 0) & keep;
    c[WORDS + w] = (c[WORDS + w] ?? 0) & keep;
    const left = (c[COUNT] ?? 0) - 1;
    c[COUNT] = left;
    if (left === 0) {
      this.#chunks.delete(k);
      this.#spare = c;
    }
  }

  /** Moves the entries, oldest first, into a ring of `capacity` pairs (>= size). */
  #resize(capacity: number): void {
    const ring = new Float64Array(2 * capacity);
    const start = 2 * this.#head;
    const end = 2 * (this.#head + this.#size);
    const total = this.#ring.length;
    if (end <= total) {
      ring.set(this.#ring.subarray(start, end));
    } else {
      ring.set(this.#ring.subarray(start));
      ring.set(this.#ring.subarray(0, end - total), total - start);
    }
    this.#ring = ring;
    this.#capacity = capacity;
    this.#head = 0;
  }
}
