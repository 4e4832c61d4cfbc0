import type { Redis } from "ioredis";
import { checkBeat, checkEndedCap, checkSeq, seconds } from "../limits.js";
import {
  ENDED_CAP_PER_QUEUE,
  type HeldCounts,
  type IndexedTicket,
  type QueueIndex,
  type QueueIndexOptions,
  type QueueMeta,
  type ReleasedEntry,
} from "../types.js";
import { allQueueKeys, META_FIELDS, type QueueKeys, queueKeys } from "./keys.js";
import { IndexScripts, type PollReply, type RanksReply } from "./scripts.js";

export interface RedisQueueIndexOptions extends QueueIndexOptions {
  /** First segment of every key (default "aq"); tests and side-by-side deployments use their own. */
  prefix?: string;
}

/**
 * How many stale tickets `abandoned` looks at to pick the smallest seqs: its answer equals the embedded
 * index's whenever no more tickets than this are stale (see lua/abandoned-1.lua).
 */
const ABANDONED_SCAN = 10_000;

/** Seqs per script call of `ranks`: about 2 ms of Redis time each. */
const RANKS_PAGE = 2_000;

/** A prune cutoff as a score bound; NaN prunes nothing, as in the embedded index. */
const cutoffBound = (ms: number): string => (Number.isNaN(ms) ? "-inf" : String(ms));

/** What the embedded WaitingLine refuses on add, checked before anything is written. */
function checkAdd(seqs: readonly number[], now: number): void {
  for (const seq of seqs) checkSeq(seq);
  if (seqs.length > 0) checkBeat(seconds(now));
}

function toMeta(reply: Pick<RanksReply, "configured" | "measured" | "abandon">): QueueMeta | undefined {
  if (reply.configured === undefined || reply.abandon === undefined) return undefined;
  return {
    configuredPerMinute: Number(reply.configured),
    measuredPerMinute:
      reply.measured === undefined || reply.measured === "" ? undefined : Number(reply.measured),
    abandonAfterSeconds: Number(reply.abandon),
  };
}

function toTicket(reply: PollReply): IndexedTicket {
  switch (reply.state) {
    case "waiting":
      return { state: "waiting", rank: reply.rank, size: reply.size, meta: toMeta(reply) };
    case "released":
      return {
        state: "released",
        accessToken: reply.accessToken,
        releasedAt: Number(reply.releasedAt),
        firstSeen: reply.firstSeen,
        size: reply.size,
      };
    case "unknown":
      return reply.rebuilding
        ? { state: "unknown", size: reply.size, rebuilding: true }
        : { state: "unknown", size: reply.size };
    default:
      return { state: reply.state, size: reply.size };
  }
}

/** A bulk poll's answers as the embedded index gives them (each as `poll` would). */
function toTickets(reply: RanksReply): IndexedTicket[] {
  const meta = toMeta(reply);
  const { size } = reply;
  return reply.answers.map((answer): IndexedTicket => {
    switch (answer.state) {
      case "waiting":
        return { state: "waiting", rank: answer.rank, size, meta };
      case "released":
        return {
          state: "released",
          accessToken: answer.accessToken,
          releasedAt: Number(answer.releasedAt),
          firstSeen: answer.firstSeen,
          size,
        };
      case "unknown":
        return reply.rebuilding ? { state: "unknown", size, rebuilding: true } : { state: "unknown", size };
      default:
        return { state: answer.state, size };
    }
  });
}

/**
 * The production hot index on Redis (keyspace in keys.ts). Every change touching more than one key is one
 * Lua script, so each method is a single atomic command; `poll` is one round trip. Numbers cross as decimal
 * strings made by String(), which round-trip every double exactly.
 *
 * The connection is the caller's: the index defines its scripts on it (`defineCommand`, names prefixed
 * `anteroomIndex_`) and never closes it; `close()` leaves it open for its owner to quit.
 */
export class RedisQueueIndex implements QueueIndex {
  private readonly prefix: string;
  private readonly endedCap: number;
  private readonly scripts: IndexScripts;

  constructor(
    private readonly redis: Redis,
    options: RedisQueueIndexOptions = {},
  ) {
    this.prefix = options.prefix ?? "aq";
    this.endedCap = checkEndedCap(options.endedCap ?? ENDED_CAP_PER_QUEUE);
    this.scripts = new IndexScripts(redis);
  }

  /** The keys of one queue (tests use them to simulate a flushed queue). */
  keys(queueId: string): QueueKeys {
    return queueKeys(this.prefix, queueId);
  }

  async setMeta(queueId: string, meta: QueueMeta): Promise<void> {
    await this.redis.hset(this.keys(queueId).meta, {
      [META_FIELDS.configured]: String(meta.configuredPerMinute),
      [META_FIELDS.measured]: meta.measuredPerMinute === undefined ? "" : String(meta.measuredPerMinute),
      [META_FIELDS.abandon]: String(meta.abandonAfterSeconds),
    });
  }

  async addWaiting(queueId: string, seqs: readonly number[], now: number): Promise<void> {
    checkAdd(seqs, now);
    if (seqs.length === 0) return;
    await this.scripts.addWaiting(this.keys(queueId), seconds(now), seqs.map(String));
  }

  async poll(queueId: string, seq: number, now: number): Promise<IndexedTicket> {
    return toTicket(await this.scripts.poll(this.keys(queueId), String(seq), String(now), seconds(now)));
  }

  /**
   * One round trip however many seqs (a hub asks for all of its connected visitors of a queue): pages of
   * RANKS_PAGE seqs, one script each, all sent at once without waiting for replies, so Redis, which runs
   * a script to its end before anything else, is never held for more than a page (a few ms) and other
   * clients' polls slip in between pages.
   */
  async ranks(queueId: string, seqs: readonly number[], now: number): Promise<IndexedTicket[]> {
    if (seqs.length === 0) return [];
    const beat = seconds(now);
    checkBeat(beat);
    const keys = this.keys(queueId);
    const pages: Promise<RanksReply>[] = [];
    for (let from = 0; from < seqs.length; from += RANKS_PAGE) {
      const page = seqs.slice(from, from + RANKS_PAGE).map(String);
      pages.push(this.scripts.ranks(keys, String(now), beat, page));
    }
    return (await Promise.all(pages)).flatMap(toTickets);
  }

  async end(
    queueId: string,
    seqs: readonly number[],
    state: "cancelled" | "expired",
    now: number,
  ): Promise<void> {
    if (seqs.length === 0) return;
    await this.scripts.end(this.keys(queueId), state, String(now), this.endedCap, seqs.map(String));
  }

  async markReleased(queueId: string, entries: readonly ReleasedEntry[], _now?: number): Promise<void> {
    if (entries.length === 0) return;
    await this.scripts.markReleased(
      this.keys(queueId),
      entries.map((entry) => ({
        seq: String(entry.seq),
        releasedAt: String(entry.releasedAt),
        seenAt: entry.seenAt === undefined ? undefined : String(entry.seenAt),
        accessToken: entry.accessToken,
      })),
    );
  }

  async markSeen(queueId: string, seq: number, now: number): Promise<boolean> {
    return this.scripts.markSeen(this.keys(queueId), String(seq), String(now));
  }

  async waitingCount(queueId: string): Promise<number> {
    return this.redis.zcard(this.keys(queueId).waiting);
  }

  async abandoned(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    const count = Math.floor(limit);
    const before = seconds(cutoff);
    if (!(count > 0) || !(before > 0)) return [];
    return this.scripts.abandoned(this.keys(queueId), before, count, Math.max(count, ABANDONED_SCAN));
  }

  /** Oldest release first (the embedded index lists them in release order, which is the same in practice). */
  async unseen(queueId: string, cutoff: number, limit: number): Promise<number[]> {
    // The embedded index stops once it has at least `limit`, so a fractional limit rounds up there.
    const count = Math.ceil(limit);
    if (!(count > 0) || Number.isNaN(cutoff)) return [];
    return this.byScore(this.keys(queueId).unseen, "-inf", `(${cutoff}`, count);
  }

  async prune(queueId: string, releasedCutoff: number, endedCutoff = releasedCutoff): Promise<void> {
    await this.scripts.prune(this.keys(queueId), cutoffBound(releasedCutoff), cutoffBound(endedCutoff));
  }

  /** How many entries of each kind the queue holds (tests). */
  async heldCounts(queueId: string): Promise<HeldCounts> {
    const k = this.keys(queueId);
    const [waiting, released, unseen, cancelled, expired] = await Promise.all([
      this.redis.zcard(k.waiting),
      this.redis.hlen(k.released),
      this.redis.zcard(k.unseen),
      this.redis.zcard(k.cancelled),
      this.redis.zcard(k.expired),
    ]);
    return { waiting, released, unseen, ended: cancelled + expired };
  }

  /** Deletes all of the queue, the loaded marker too: polls say "rebuilding" until a worker rebuilds it. */
  async reset(queueId: string): Promise<void> {
    await this.redis.del(...allQueueKeys(this.keys(queueId)));
  }

  async markLoaded(queueId: string): Promise<void> {
    await this.redis.set(this.keys(queueId).loaded, "1");
  }

  async isLoaded(queueId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys(queueId).loaded)) === 1;
  }

  async waitingPage(queueId: string, afterSeq: number, limit: number): Promise<number[]> {
    const count = Math.floor(limit);
    if (!(count > 0) || Number.isNaN(afterSeq)) return [];
    return this.byScore(this.keys(queueId).waiting, `(${afterSeq}`, "+inf", count);
  }

  /**
   * Deletes the queue's keys but keeps its loaded marker (a few bytes per deleted queue): late polls of its
   * tickets then say plain "unknown" and fall through to the record, where a missing marker would answer
   * "rebuilding" for a rebuild that never comes (only active queues are rebuilt).
   */
  async drop(queueId: string): Promise<void> {
    const keys = this.keys(queueId);
    await this.redis.del(...allQueueKeys(keys).filter((key) => key !== keys.loaded));
  }

  /** Up to `count` seqs of a sorted set with scores in [min, max], lowest score first. */
  private async byScore(key: string, min: string, max: string, count: number): Promise<number[]> {
    const seqs = await this.redis.zrange(key, min, max, "BYSCORE", "LIMIT", 0, count);
    return seqs.map(Number);
  }

  /** Does not quit the connection: it was given to the index, and its owner closes it. */
  async close(): Promise<void> {}
}
