import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import type { QueueKeys } from "./keys.js";

/**
 * The hot index's Lua scripts (./lua/<name>-<numKeys>.lua, each with a KEYS/ARGV header), defined on a
 * connection with `defineCommand`: ioredis sends EVALSHA, or EVAL the first time on a socket, so every call
 * is one command and one round trip. Each script has a typed wrapper here that puts the keys in the order
 * its header lists and decodes its reply; the mapping to domain types is the adapter's.
 */

type Arg = string | number;
type Command = (...args: Arg[]) => Promise<unknown>;

const SCRIPTS = {
  addWaiting: { file: "add-waiting-5.lua", keys: 5 },
  poll: { file: "poll-8.lua", keys: 8 },
  end: { file: "end-7.lua", keys: 7 },
  markReleased: { file: "mark-released-5.lua", keys: 5 },
  markSeen: { file: "mark-seen-2.lua", keys: 2 },
  prune: { file: "prune-5.lua", keys: 5 },
  abandoned: { file: "abandoned-1.lua", keys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

/**
 * Where the .lua files are: next to this module when run from the sources (tsx), else, in a `dist/` build
 * (tsc does not copy them), the same path under `src/`.
 */
export function luaDirectory(moduleUrl: string = import.meta.url): URL {
  const beside = new URL("./lua/", moduleUrl);
  if (existsSync(new URL(SCRIPTS.poll.file, beside))) return beside;
  const at = beside.href.lastIndexOf("/dist/");
  if (at >= 0) {
    const source = new URL(`${beside.href.slice(0, at)}/src/${beside.href.slice(at + "/dist/".length)}`);
    if (existsSync(new URL(SCRIPTS.poll.file, source))) return source;
  }
  throw new Error(
    `hot index Lua scripts not found in ${fileURLToPath(beside)} (nor under src/ for a dist build)`,
  );
}

let sources: Record<ScriptName, string> | undefined;

function luaSources(): Record<ScriptName, string> {
  if (sources === undefined) {
    const dir = luaDirectory();
    const read = (name: ScriptName) => readFileSync(new URL(SCRIPTS[name].file, dir), "utf8");
    sources = {
      addWaiting: read("addWaiting"),
      poll: read("poll"),
      end: read("end"),
      markReleased: read("markReleased"),
      markSeen: read("markSeen"),
      prune: read("prune"),
      abandoned: read("abandoned"),
    };
  }
  return sources;
}

const isCommand = (value: unknown): value is Command => typeof value === "function";

/** Defines the script on the connection (under a namespaced name) and returns it bound to that connection. */
function define(redis: Redis, name: ScriptName): Command {
  const command = `anteroomIndex_${name}`;
  redis.defineCommand(command, { numberOfKeys: SCRIPTS[name].keys, lua: luaSources()[name] });
  const defined: unknown = Reflect.get(redis, command);
  if (!isCommand(defined)) throw new Error(`ioredis did not define the ${command} command`);
  return defined.bind(redis);
}

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

/** The scripts, defined on one connection; keys come from `queueKeys`, seqs as decimal strings. */
export class IndexScripts {
  private readonly commands: Record<ScriptName, Command>;

  constructor(redis: Redis) {
    this.commands = {
      addWaiting: define(redis, "addWaiting"),
      poll: define(redis, "poll"),
      end: define(redis, "end"),
      markReleased: define(redis, "markReleased"),
      markSeen: define(redis, "markSeen"),
      prune: define(redis, "prune"),
      abandoned: define(redis, "abandoned"),
    };
  }

  async addWaiting(k: QueueKeys, beatSeconds: number, seqs: readonly string[]): Promise<void> {
    await this.commands.addWaiting(
      k.waiting,
      k.beats,
      k.released,
      k.cancelled,
      k.expired,
      beatSeconds,
      ...seqs,
    );
  }

  async poll(k: QueueKeys, seq: string, now: string, beatSeconds: number): Promise<PollReply> {
    const reply = await this.commands.poll(
      k.waiting,
      k.beats,
      k.released,
      k.unseen,
      k.cancelled,
      k.expired,
      k.meta,
      k.loaded,
      seq,
      now,
      beatSeconds,
    );
    return decodePoll(reply);
  }

  async end(
    k: QueueKeys,
    state: "cancelled" | "expired",
    at: string,
    cap: number,
    seqs: readonly string[],
  ): Promise<void> {
    const [into, other] = state === "cancelled" ? [k.cancelled, k.expired] : [k.expired, k.cancelled];
    await this.commands.end(
      k.waiting,
      k.beats,
      k.released,
      k.releasedAt,
      k.unseen,
      into,
      other,
      at,
      cap,
      ...seqs,
    );
  }

  async markReleased(k: QueueKeys, entries: readonly ReleasedArgs[]): Promise<void> {
    const args = entries.flatMap((e) => [e.seq, e.releasedAt, e.seenAt ?? "", e.accessToken]);
    await this.commands.markReleased(k.waiting, k.beats, k.released, k.releasedAt, k.unseen, ...args);
  }

  async markSeen(k: QueueKeys, seq: string, now: string): Promise<boolean> {
    return integer("mark-seen", await this.commands.markSeen(k.released, k.unseen, seq, now)) === 1;
  }

  async prune(k: QueueKeys, releasedCutoff: string, endedCutoff: string): Promise<number> {
    return integer(
      "prune",
      await this.commands.prune(
        k.released,
        k.releasedAt,
        k.unseen,
        k.cancelled,
        k.expired,
        releasedCutoff,
        endedCutoff,
      ),
    );
  }

  async abandoned(k: QueueKeys, cutoffSeconds: number, limit: number, budget: number): Promise<number[]> {
    const reply = await this.commands.abandoned(k.beats, cutoffSeconds, limit, budget);
    if (!Array.isArray(reply)) throw unexpected("abandoned", reply);
    const items: unknown[] = reply;
    return items.map((seq) => integer("abandoned", seq));
  }
}
