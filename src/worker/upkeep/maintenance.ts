import type { Logger } from "pino";
import { Counter, Histogram } from "prom-client";
import type { Clock } from "../../domain/clock.js";
import { type TryLock, withLock } from "../../index/redis/locks.js";
import type { QueueIndex } from "../../index/types.js";
import type { Metrics } from "../../observability/metrics.js";
import type { ActiveQueues } from "../../services/active-queues.js";
import type { Store } from "../../store/types.js";
import { rebuildQueue } from "./rebuild.js";
import { settleWaitingEntries } from "./settle.js";

const PAGE = 5_000;
/** How long a lock outlives a worker that died holding it; a live holder renews and releases it. */
const LOCK_TTL_MS = 30_000;

/**
 * Keeps the shared hot index true to the record, from the workers:
 * - rebuild: a queue whose `loaded` marker is gone (Redis flushed or restarted empty) is refilled from
 *   the record, page by page, by one worker at a time; polls of its waiting visitors say "rebuilding"
 *   until then.
 * - reconcile: every so often each queue's waiting tickets are compared, page by page, between record and
 *   index; a ticket missing from the index is added, and one the index holds but the record says has
 *   left is moved to its real state. Lost writes (a crash between commit and index update, a Redis blip)
 *   are thus repaired within one reconcile period.
 */
export class IndexMaintenance {
  private readonly rebuilds: Counter<"outcome">;
  private readonly rebuildSeconds: Histogram;
  private readonly repairs: Counter<"kind">;

  constructor(
    private readonly deps: {
      store: Store;
      index: QueueIndex;
      queues: ActiveQueues;
      clock: Clock;
      logger: Logger;
      metrics: Metrics;
      tryLock: TryLock;
    },
  ) {
    const registers = [deps.metrics.registry];
    this.rebuilds = new Counter({
      name: "anteroom_index_rebuilds_total",
      help: "Hot-index queue rebuilds from the record",
      labelNames: ["outcome"],
      registers,
    });
    this.rebuildSeconds = new Histogram({
      name: "anteroom_index_rebuild_seconds",
      help: "Duration of one queue's hot-index rebuild",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.repairs = new Counter({
      name: "anteroom_index_repairs_total",
      help: "Hot-index entries repaired by the reconciler",
      labelNames: ["kind"],
      registers,
    });
  }

  /** Rebuilds every active queue whose index entry is missing. */
  async ensureLoaded(): Promise<number> {
    let rebuilt = 0;
    for (const queue of this.deps.queues.all()) {
      if (await this.deps.index.isLoaded(queue.id)) continue;
      const done = await withLock(this.deps.tryLock, `rebuild:${queue.id}`, LOCK_TTL_MS, async () => {
        // Another worker may have finished it between our look and our lock.
        if (await this.deps.index.isLoaded(queue.id)) return false;
        const started = this.deps.clock.now();
        try {
          const tickets = await rebuildQueue(this.deps.store, this.deps.index, queue.id, started);
          const seconds = (this.deps.clock.now() - started) / 1000;
          this.rebuilds.inc({ outcome: "done" });
          this.rebuildSeconds.observe(seconds);
          this.deps.logger.info({ queueId: queue.id, tickets, seconds }, "hot index rebuilt from the record");
          return true;
        } catch (error) {
          this.rebuilds.inc({ outcome: "failed" });
          throw error;
        }
      });
      if (done?.result === true) rebuilt += 1;
    }
    return rebuilt;
  }

  /** Compares every active queue's waiting set in record and index; returns entries repaired. */
  async reconcileAll(): Promise<number> {
    let repaired = 0;
    for (const queue of this.deps.queues.all()) {
      if (!(await this.deps.index.isLoaded(queue.id))) continue;
      const done = await withLock(this.deps.tryLock, `reconcile:${queue.id}`, LOCK_TTL_MS, () =>
        this.reconcile(queue.id),
      );
      repaired += done?.result ?? 0;
    }
    return repaired;
  }

  async reconcile(queueId: string): Promise<number> {
    const { store, index, clock } = this.deps;
    let repaired = 0;
    let after = 0;
    for (;;) {
      const record = await store.tickets.waitingSeqs(queueId, after, PAGE);
      const last = record.at(-1);
      // Compare the index over the same span of ticket numbers as this page of the record.
      const upTo = record.length < PAGE ? Number.POSITIVE_INFINITY : (last ?? after);
      const indexed = (await this.indexedBetween(queueId, after, upTo)).filter((seq) => seq <= upTo);
      const inRecord = new Set(record);
      const inIndex = new Set(indexed);
      const missing = record.filter((seq) => !inIndex.has(seq));
      const extra = indexed.filter((seq) => !inRecord.has(seq));
      if (missing.length > 0) {
        await index.addWaiting(queueId, missing, clock.now());
        this.repairs.inc({ kind: "added" }, missing.length);
        repaired += missing.length;
      }
      for (const [kind, n] of await settleWaitingEntries(store, index, queueId, extra, clock.now())) {
        this.repairs.inc({ kind }, n);
        repaired += n;
      }
      if (last === undefined || record.length < PAGE) break;
      after = last;
    }
    if (repaired > 0) this.deps.logger.warn({ queueId, repaired }, "reconciler repaired the hot index");
    return repaired;
  }

  private async indexedBetween(queueId: string, after: number, upTo: number): Promise<number[]> {
    const seqs: number[] = [];
    let cursor = after;
    for (;;) {
      const page = await this.deps.index.waitingPage(queueId, cursor, PAGE);
      seqs.push(...page);
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE || last > upTo) return seqs;
      cursor = last;
    }
  }
}
