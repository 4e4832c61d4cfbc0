import type { Redis } from "ioredis";
import type { QueueKeys } from "./keys.js";
import { defineScripts, type ScriptCall, type ScriptName } from "./script-loader.js";

/**
 * Typed wrappers over the hot index's Lua scripts (loaded and defined by script-loader.ts): each puts the
 * keys in the order its script's header lists them and decodes the reply; mapping to domain types is the
 * adapter's. Every call is one command and one round trip.
 */

export type PollReply =
  | {
      state: "waiting";
      size: number;
      rank: number;
      configured: string | undefined;
      measured: string | undefined;
      abandon: string | undefined;
    }
  | { state: "released"; size: number; releasedAt: string; accessToken: string; firstSeen: boolean }
  | { state: "cancelled" | "expired"; size: number }
  | { state: "unknown"; size: number; rebuilding: boolean };

/** One ticket's answer in a bulk poll (ranks-8.lua). */
export type RankAnswer =
  | { state: "waiting"; rank: number }
  | { state: "released"; releasedAt: string; accessToken: string; firstSeen: boolean }
  | { state: "cancelled" | "expired" | "unknown" };

/** A bulk poll's reply: the queue's figures once, then one answer per seq asked, in order. */
export interface RanksReply {
  size: number;
  rebuilding: boolean;
  configured: string | undefined;
  measured: string | undefined;
  abandon: string | undefined;
  answers: RankAnswer[];
}

/** One queue's released ticket as the mark-released script takes it (ms values as decimal strings). */
export interface ReleasedArgs {
  seq: string;
  releasedAt: string;
  seenAt: string | undefined;
  accessToken: string;
}

function unexpected(script: string, reply: unknown): Error {
  return new Error(`unexpected reply from the ${script} script: ${JSON.stringify(reply)}`);
}

function integer(script: string, value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  throw unexpected(script, value);
}

/** A bulk reply that may be nil (a missing hash field): ioredis gives null. */
function optionalString(script: string, value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value === "string") return value;
  throw unexpected(script, value);
}

function text(script: string, value: unknown): string {
  if (typeof value === "string") return value;
  throw unexpected(script, value);
}

function decodePoll(reply: unknown): PollReply {
  if (!Array.isArray(reply)) throw unexpected("poll", reply);
  const items: unknown[] = reply;
  const [state, size] = [items[0], integer("poll", items[1])];
  switch (state) {
    case "waiting":
      return {
        state,
        size,
        rank: integer("poll", items[2]),
        configured: optionalString("poll", items[3]),
        measured: optionalString("poll", items[4]),
        abandon: optionalString("poll", items[5]),
      };
    case "released":
      return {
        state,
        size,
        releasedAt: text("poll", items[2]),
        accessToken: text("poll", items[3]),
        firstSeen: integer("poll", items[4]) === 1,
      };
    case "cancelled":
    case "expired":
      return { state, size };
    case "unknown":
      return { state, size, rebuilding: integer("poll", items[2]) === 1 };
    default:
      throw unexpected("poll", reply);
  }
}

function decodeRankAnswer(item: unknown): RankAnswer {
  if (typeof item === "number") return { state: "waiting", rank: integer("ranks", item) };
  if (item === "cancelled" || item === "expired" || item === "unknown") return { state: item };
  if (Array.isArray(item) && item[0] === "released") {
    const parts: unknown[] = item;
    return {
      state: "released",
      releasedAt: text("ranks", parts[1]),
      accessToken: text("ranks", parts[2]),
      firstSeen: integer("ranks", parts[3]) === 1,
    };
  }
  throw unexpected("ranks", item);
}

function decodeRanks(reply: unknown, count: number): RanksReply {
  if (!Array.isArray(reply) || reply.length !== 5 + count) throw unexpected("ranks", reply);
  const items: unknown[] = reply;
  return {
    size: integer("ranks", items[0]),
    rebuilding: integer("ranks", items[1]) === 1,
    configured: optionalString("ranks", items[2]),
    measured: optionalString("ranks", items[3]),
    abandon: optionalString("ranks", items[4]),
    answers: items.slice(5).map(decodeRankAnswer),
  };
}

/** The scripts, defined on one connection; keys come from `queueKeys`, seqs as decimal strings. */
export class IndexScripts {
  private readonly calls: Map<string, ScriptCall>;

  constructor(redis: Redis) {
    this.calls = defineScripts(redis);
  }

  private run(
    name: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const call = this.calls.get(name);
    if (call === undefined) throw new Error(`no hot index Lua script named ${name}`);
    return call(keys, args);
  }

  async addWaiting(k: QueueKeys, beatSeconds: number, seqs: readonly string[]): Promise<void> {
    await this.run(
      "add-waiting",
      [k.waiting, k.beats, k.released, k.cancelled, k.expired],
      [beatSeconds, ...seqs],
    );
  }

  async poll(k: QueueKeys, seq: string, now: string, beatSeconds: number): Promise<PollReply> {
    const reply = await this.run(
      "poll",
      [k.waiting, k.beats, k.released, k.unseen, k.cancelled, k.expired, k.meta, k.loaded],
      [seq, now, beatSeconds],
    );
    return decodePoll(reply);
  }

  async ranks(k: QueueKeys, now: string, beatSeconds: number, seqs: readonly string[]): Promise<RanksReply> {
    const reply = await this.run(
      "ranks",
      [k.waiting, k.beats, k.released, k.unseen, k.cancelled, k.expired, k.meta, k.loaded],
      [now, beatSeconds, ...seqs],
    );
    return decodeRanks(reply, seqs.length);
  }

  async end(
    k: QueueKeys,
    state: "cancelled" | "expired",
    at: string,
    cap: number,
    seqs: readonly string[],
  ): Promise<void> {
    const [into, other] = state === "cancelled" ? [k.cancelled, k.expired] : [k.expired, k.cancelled];
    await this.run(
      "end",
      [k.waiting, k.beats, k.released, k.releasedAt, k.unseen, into, other],
      [at, cap, ...seqs],
    );
  }

  async markReleased(k: QueueKeys, entries: readonly ReleasedArgs[]): Promise<void> {
    const args = entries.flatMap((e) => [e.seq, e.releasedAt, e.seenAt ?? "", e.accessToken]);
    await this.run("mark-released", [k.waiting, k.beats, k.released, k.releasedAt, k.unseen], args);
  }

  async markSeen(k: QueueKeys, seq: string, now: string): Promise<boolean> {
    return integer("mark-seen", await this.run("mark-seen", [k.released, k.unseen], [seq, now])) === 1;
  }

  async prune(k: QueueKeys, releasedCutoff: string, endedCutoff: string): Promise<number> {
    const keys = [k.released, k.releasedAt, k.unseen, k.cancelled, k.expired];
    return integer("prune", await this.run("prune", keys, [releasedCutoff, endedCutoff]));
  }

  async abandoned(k: QueueKeys, cutoffSeconds: number, limit: number, budget: number): Promise<number[]> {
    const reply = await this.run("abandoned", [k.beats], [cutoffSeconds, limit, budget]);
    if (!Array.isArray(reply)) throw unexpected("abandoned", reply);
    const items: unknown[] = reply;
    return items.map((seq) => integer("abandoned", seq));
  }
}
