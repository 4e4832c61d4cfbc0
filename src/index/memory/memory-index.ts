import type { IndexedTicket, QueueIndex, QueueMeta, ReleasedEntry } from "../types.js";
import { WaitingLine } from "./waiting-line.js";

interface Released {
  accessToken: string;
  releasedAt: number;
  seenAt: number | undefined;
}

interface QueueState {
  line: WaitingLine;
  released: Map<number, Released>;
  /** Recently ended tickets, so a late poll says "cancelled" or "expired" without asking the record. */
  ended: Map<number, { state: "cancelled" | "expired"; at: number }>;
  meta: QueueMeta | undefined;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * The embedded hot index: everything in this process's memory. The waiting set is a WaitingLine
 * (a few bytes per visitor); released and ended tickets are small maps bounded by the release rate
 * and pruned by the expiry worker. Methods are synchronous underneath; they return promises only to share
 * the QueueIndex interface with the Redis adapter.
 */
export class MemoryQueueIndex implements QueueIndex {
  private readonly queues = new Map<string, QueueState>();

  private state(queueId: string): QueueState {
    let state = this.queues.get(queueId);
    if (state === undefined) {
      state = { line: new WaitingLine(), released: new Map(), ended: new Map(), meta: undefined };
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
      if (firstSeen) released.seenAt = now;
      return {
        state: "released",
        accessToken: released.accessToken,
        releasedAt: released.releasedAt,
        firstSeen,
        size,
      };
    }
    const ended = state.ended.get(seq);
    if (ended !== undefined) return { state: ended.state, size };
    return { state: "unknown", size };
  }

  async poll(queueId: string, seq: number, now: number): Promise<IndexedTicket> {
    return this.pollNow(queueId, seq, now);
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
      queue.ended.set(seq, { state, at: now });
    }
  }

  async markReleased(queueId: string, entries: readonly ReleasedEntry[]): Promise<void> {
    const queue = this.state(queueId);
    for (const entry of entries) {
      queue.line.remove(entry.seq);
      queue.released.set(entry.seq, {
        accessToken: entry.accessToken,
        releasedAt: entry.releasedAt,
        seenAt: entry.seenAt,
      });
    }
  }

  async markSeen(queueId: string, seq: number, now: number): Promise<boolean> {
    const released = this.queues.get(queueId)?.released.get(seq);
    if (released === undefined || released.seenAt !== undefined) return false;
    released.seenAt = now;
    return true;
  }

  async waitingCount(queueId: string): Promise<number> {
    return this.queues.get(queueId)?.line.size ?? 0;
  }

  async abandoned(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    return this.queues.get(queueId)?.line.staleBefore(seconds(cutoff), limit) ?? [];
  }

  async unseen(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    const found: number[] = [];
    for (const [seq, entry] of this.queues.get(queueId)?.released ?? []) {
      if (found.length >= limit) break;
      if (entry.seenAt === undefined && entry.releasedAt < cutoff) found.push(seq);
    }
    return found;
  }

  async prune(queueId: string, cutoff: number): Promise<void> {
    const queue = this.queues.get(queueId);
    if (queue === undefined) return;
    for (const [seq, entry] of queue.released) if (entry.releasedAt < cutoff) queue.released.delete(seq);
    for (const [seq, entry] of queue.ended) if (entry.at < cutoff) queue.ended.delete(seq);
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
}
