import { checkEndedCap, seconds } from "../limits.js";
import {
  ENDED_CAP_PER_QUEUE,
  type HeldCounts,
  type IndexedTicket,
  type QueueIndex,
  type QueueIndexOptions,
  type QueueMeta,
  type ReleasedEntry,
} from "../types.js";
import { EndedTickets } from "./ended-tickets.js";
import { WaitingLine } from "./waiting-line.js";

interface Released {
  accessToken: string;
  releasedAt: number;
  seenAt: number | undefined;
}

interface QueueState {
  line: WaitingLine;
  /** In the order they were (last) marked released, which is release order: prune pops from the front. */
  released: Map<number, Released>;
  /** The released entries not yet seen, same objects and order: `unseen` walks only these. */
  unseen: Map<number, Released>;
  /** Recently ended tickets, so a late poll says "cancelled" or "expired" without asking the record. */
  ended: EndedTickets;
  meta: QueueMeta | undefined;
}

/**
 * The embedded hot index: everything in this process's memory. The waiting set is a WaitingLine
 * (a few bytes per visitor); ended tickets are an EndedTickets ring (about 16 bytes each, capped per
 * queue); released tickets are maps bounded by the release rate. The expiry worker prunes released and
 * ended entries, each after its own retention, from the oldest end: work is proportional to what is due,
 * not to what is held. Methods are synchronous underneath; they return promises only to share the
 * QueueIndex interface with the Redis adapter.
 */
export class MemoryQueueIndex implements QueueIndex {
  private readonly queues = new Map<string, QueueState>();
  private readonly endedCap: number;

  constructor(options: QueueIndexOptions = {}) {
    this.endedCap = checkEndedCap(options.endedCap ?? ENDED_CAP_PER_QUEUE);
  }

  private state(queueId: string): QueueState {
    let state = this.queues.get(queueId);
    if (state === undefined) {
      state = {
        line: new WaitingLine(),
        released: new Map(),
        unseen: new Map(),
        ended: new EndedTickets(this.endedCap),
        meta: undefined,
      };
      this.queues.set(queueId, state);
    }
    return state;
  }

  async setMeta(queueId: string, meta: QueueMeta): Promise<void> {
    this.state(queueId).meta = meta;
  }

  async addWaiting(queueId: string, seqs: readonly number[], now: number): Promise<void> {
    const queue = this.state(queueId);
    for (const seq of seqs) {
      if (!queue.ended.has(seq) && !queue.released.has(seq)) queue.line.add(seq, seconds(now));
    }
  }

  /** Synchronous form of poll(), for callers in this process that want to skip a promise. */
  pollNow(queueId: string, seq: number, now: number): IndexedTicket {
    const state = this.queues.get(queueId);
    if (state === undefined) return { state: "unknown", size: 0 };
    const size = state.line.size;
    if (state.line.has(seq)) {
      state.line.touch(seq, seconds(now));
      return { state: "waiting", rank: state.line.rank(seq), size, meta: state.meta };
    }
    const released = state.released.get(seq);
    if (released !== undefined) {
      const firstSeen = released.seenAt === undefined;
      if (firstSeen) {
        released.seenAt = now;
        state.unseen.delete(seq);
      }
      return {
        state: "released",
        accessToken: released.accessToken,
        releasedAt: released.releasedAt,
        firstSeen,
        size,
      };
    }
    const ended = state.ended.state(seq);
    if (ended !== undefined) return { state: ended, size };
    return { state: "unknown", size };
  }

  async poll(queueId: string, seq: number, now: number): Promise<IndexedTicket> {
    return this.pollNow(queueId, seq, now);
  }

  async ranks(queueId: string, seqs: readonly number[], now: number): Promise<IndexedTicket[]> {
    const answers = new Array<IndexedTicket>(seqs.length);
    for (let i = 0; i < seqs.length; i++) answers[i] = this.pollNow(queueId, seqs[i] ?? 0, now);
    return answers;
  }

  async end(
    queueId: string,
    seqs: readonly number[],
    state: "cancelled" | "expired",
    now: number,
  ): Promise<void> {
    const queue = this.state(queueId);
    for (const seq of seqs) {
      queue.line.remove(seq);
      queue.released.delete(seq);
      queue.unseen.delete(seq);
      queue.ended.add(seq, state, now);
    }
  }

  async markReleased(queueId: string, entries: readonly ReleasedEntry[]): Promise<void> {
    const queue = this.state(queueId);
    for (const entry of entries) {
      queue.line.remove(entry.seq);
      // Replacing an entry moves it to the back: the maps stay in the order of marking.
      queue.released.delete(entry.seq);
      queue.unseen.delete(entry.seq);
      const released: Released = {
        accessToken: entry.accessToken,
        releasedAt: entry.releasedAt,
        seenAt: entry.seenAt,
      };
      queue.released.set(entry.seq, released);
      if (released.seenAt === undefined) queue.unseen.set(entry.seq, released);
    }
  }

  async markSeen(queueId: string, seq: number, now: number): Promise<boolean> {
    const queue = this.queues.get(queueId);
    const released = queue?.unseen.get(seq);
    if (queue === undefined || released === undefined) return false;
    released.seenAt = now;
    queue.unseen.delete(seq);
    return true;
  }

  async waitingCount(queueId: string): Promise<number> {
    return this.queues.get(queueId)?.line.size ?? 0;
  }

  async abandoned(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    return this.queues.get(queueId)?.line.staleBefore(seconds(cutoff), limit) ?? [];
  }

  /**
   * Walks the unseen entries from the oldest release and stops at the first one released at or after the
   * cutoff: only what is due is looked at (an entry marked out of release order waits for those before it).
   */
  async unseen(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    const found: number[] = [];
    for (const [seq, entry] of this.queues.get(queueId)?.unseen ?? []) {
      if (found.length >= limit || !(entry.releasedAt < cutoff)) break;
      found.push(seq);
    }
    return found;
  }

  /** Pops due entries from the oldest end of each kind, stopping at the first one still young. */
  async prune(queueId: string, releasedCutoff: number, endedCutoff = releasedCutoff): Promise<void> {
    const queue = this.queues.get(queueId);
    if (queue === undefined) return;
    for (const [seq, entry] of queue.released) {
      if (!(entry.releasedAt < releasedCutoff)) break;
      queue.released.delete(seq);
      queue.unseen.delete(seq);
    }
    queue.ended.prune(endedCutoff);
  }

  async reset(queueId: string): Promise<void> {
    this.queues.delete(queueId);
  }

  // One process holds the whole index and builds it before serving: it is always loaded.
  async markLoaded(): Promise<void> {}

  async isLoaded(): Promise<boolean> {
    return true;
  }

  async waitingPage(queueId: string, afterSeq: number, limit: number): Promise<number[]> {
    return this.queues.get(queueId)?.line.after(afterSeq, limit) ?? [];
  }

  async drop(queueId: string): Promise<void> {
    this.queues.delete(queueId);
  }

  async close(): Promise<void> {
    this.queues.clear();
  }

  /** Bytes held for waiting visitors across all queues (for the benchmark's bytes-per-visitor figure). */
  waitingMemoryBytes(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.line.memoryBytes();
    return total;
  }

  /** Bytes held for ended tickets across all queues (the benchmark's bytes-per-ended-ticket figure). */
  endedMemoryBytes(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.ended.memoryBytes();
    return total;
  }

  async heldCounts(queueId: string): Promise<HeldCounts> {
    const queue = this.queues.get(queueId);
    return {
      waiting: queue?.line.size ?? 0,
      released: queue?.released.size ?? 0,
      unseen: queue?.unseen.size ?? 0,
      ended: queue?.ended.size ?? 0,
    };
  }
}
