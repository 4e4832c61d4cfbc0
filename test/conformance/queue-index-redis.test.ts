import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { allQueueKeys } from "../../src/index/redis/keys.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import {
  inlineIncludes,
  luaDirectory,
  parseScriptFile,
  SCRIPT_FILES,
  scriptSource,
} from "../../src/index/redis/script-loader.js";
import { connection, redisAt, SECOND, T0, TOKEN } from "./queue-index-adapters.js";

/** What only the Redis adapter has: its keyspace, the loaded marker, one command per poll, its scripts. */
afterAll(() => redisAt?.redis.disconnect());

describe.skipIf(redisAt === undefined)("RedisQueueIndex only", () => {
  const used: string[] = [];
  const index = redisAt === undefined ? undefined : new RedisQueueIndex(connection());

  function redisIndex(): RedisQueueIndex {
    if (index === undefined) throw new Error("no Redis");
    return index;
  }

  function queue(): string {
    const id = randomUUID();
    used.push(id);
    return id;
  }

  afterEach(async () => {
    for (const id of used.splice(0)) await redisIndex().reset(id);
  });

  it("puts every key of a queue in one cluster slot under the prefix", () => {
    const keys = allQueueKeys(new RedisQueueIndex(connection(), { prefix: "pfx" }).keys("Q1"));
    expect(keys).toHaveLength(9);
    for (const key of keys) expect(key).toMatch(/^pfx:\{q:Q1\}:[a-z_]+$/);
  });

  it("says rebuilding for a flushed queue's tickets until it is loaded again", async () => {
    const idx = redisIndex();
    const q = queue();
    expect(await idx.isLoaded(q)).toBe(false);
    await idx.addWaiting(q, [1, 2], T0);
    await idx.markLoaded(q);
    expect(await idx.isLoaded(q)).toBe(true);
    expect(await idx.poll(q, 2, T0)).toMatchObject({ state: "waiting", rank: 1 });

    await connection().del(...allQueueKeys(idx.keys(q)));
    expect(await idx.isLoaded(q)).toBe(false);
    // Joins after the flush: the line holds only them, so ranks would be wrong.
    await idx.addWaiting(q, [3], T0);
    expect(await idx.poll(q, 3, T0)).toEqual({ state: "unknown", size: 1, rebuilding: true });
    // A ticket the index lacks may be waiting in the record.
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 1, rebuilding: true });
    expect(await idx.waitingCount(q)).toBe(1);
    // Released and ended tickets can still be answered.
    await idx.markReleased(q, [{ seq: 4, accessToken: TOKEN, releasedAt: T0 }], T0);
    await idx.end(q, [5], "cancelled", T0);
    expect(await idx.poll(q, 4, T0)).toMatchObject({ state: "released", firstSeen: true });
    expect(await idx.poll(q, 5, T0)).toEqual({ state: "cancelled", size: 1 });

    await idx.addWaiting(q, [1, 2, 4, 5], T0);
    await idx.markLoaded(q);
    expect(await idx.poll(q, 3, T0)).toEqual({ state: "waiting", rank: 2, size: 3, meta: undefined });
    expect(await idx.poll(q, 9, T0)).toEqual({ state: "unknown", size: 3 });
  });

  it("reset forgets that the queue was loaded; drop keeps the marker so late polls go to the record", async () => {
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1], T0);
    await idx.markLoaded(q);
    await idx.reset(q);
    expect(await idx.isLoaded(q)).toBe(false);
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 0, rebuilding: true });
    await idx.addWaiting(q, [1], T0);
    await idx.markLoaded(q);
    await idx.drop(q);
    expect(await idx.isLoaded(q)).toBe(true);
    expect(await idx.poll(q, 1, T0)).toEqual({ state: "unknown", size: 0 });
    expect(await connection().exists(...allQueueKeys(idx.keys(q)))).toBe(1);
  });

  it("still records the heartbeat of a waiting ticket while the queue is not loaded", async () => {
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1], T0);
    await idx.poll(q, 1, T0 + 60 * SECOND);
    expect(await idx.abandoned(q, T0 + 30 * SECOND, 10)).toEqual([]);
  });

  it("polls in exactly one command, seen from both the client and the server", async () => {
    const redis = connection();
    const idx = redisIndex();
    const q = queue();
    await idx.addWaiting(q, [1, 2], T0);
    await idx.markLoaded(q);
    await idx.poll(q, 2, T0); // the first script call on a socket is an EVAL; later ones EVALSHA

    const monitor = await redis.monitor();
    try {
      const seen: { args: string[]; source: string }[] = [];
      monitor.on("monitor", (_time: string, args: string[], source: string) => seen.push({ args, source }));
      const marker = randomUUID();
      await redis.echo(`start-${marker}`);
      const sent = vi.spyOn(redis, "sendCommand");
      const ticket = await idx.poll(q, 2, T0 + SECOND);
      expect(sent).toHaveBeenCalledTimes(1);
      sent.mockRestore();
      await redis.echo(`end-${marker}`);
      expect(ticket).toMatchObject({ state: "waiting", rank: 1, size: 2 });

      await vi.waitFor(() => expect(seen.some((e) => e.args[1] === `end-${marker}`)).toBe(true));
      const start = seen.findIndex((e) => e.args[1] === `start-${marker}`);
      const end = seen.findIndex((e) => e.args[1] === `end-${marker}`);
      const client = seen[start]?.source;
      const between = seen.slice(start + 1, end).filter((e) => e.source === client);
      expect(between.map((e) => e.args[0]?.toLowerCase())).toEqual(["evalsha"]);
      // The commands inside the script run on the server, not as round trips.
      expect(seen.slice(start + 1, end).some((e) => e.source === "lua")).toBe(true);
    } finally {
      monitor.disconnect();
    }
  });

  it("does not close the connection it was given", async () => {
    const redis = connection();
    await new RedisQueueIndex(redis).close();
    expect(await redis.ping()).toBe("PONG");
  });
});

// The loader needs no Redis: it only reads files.
describe("Lua script loader", () => {
  it("finds its Lua scripts beside the module, or under src/ when run from a dist build", () => {
    const source = luaDirectory();
    expect(source.href).toMatch(/\/src\/index\/redis\/lua\/$/);
    const dist = source.href.replace("/src/index/redis/lua/", "/dist/index/redis/script-loader.js");
    expect(luaDirectory(dist).href).toBe(source.href);
    expect(() => luaDirectory("file:///nowhere/index/redis/script-loader.js")).toThrow(
      /Lua scripts not found/,
    );
  });

  it("lists every script file, each named <name>-<numKeys>.lua with a header naming exactly its keys", () => {
    const dir = luaDirectory();
    const onDisk = readdirSync(dir).filter((file) => file.endsWith(".lua"));
    expect([...SCRIPT_FILES].sort()).toEqual(onDisk.sort());
    for (const file of SCRIPT_FILES) {
      const { numberOfKeys } = parseScriptFile(file);
      const header = readFileSync(new URL(file, dir), "utf8").split("]]")[0] ?? "";
      const listed = [...header.matchAll(/^ {2}KEYS\[(\d+)\]/gm)].map((match) => Number(match[1]));
      expect(listed, file).toEqual(Array.from({ length: numberOfKeys }, (_, i) => i + 1));
    }
    expect(() => parseScriptFile("poll.lua")).toThrow(/<name>-<numKeys>/);
  });

  it("inlines each helper once, where first included, helpers included by helpers too", () => {
    const helpers: Record<string, string> = {
      a: "local A = 1\n",
      b: "-- @include a\nlocal B = A + 1\n",
    };
    const read = (name: string): string => {
      const text = helpers[name];
      if (text === undefined) throw new Error(`no ${name}`);
      return text;
    };
    const script = "-- @include b\n-- @include a\nreturn B";
    expect(inlineIncludes(script, read)).toBe(
      "-- @include b\n-- @include a\nlocal A = 1\nlocal B = A + 1\n-- @include a\nreturn B",
    );
    expect(() => inlineIncludes("-- @include c", read)).toThrow(/no c/);
  });

  it("sends each script whole, every helper defined once, and names a missing helper", () => {
    for (const file of SCRIPT_FILES) {
      const lua = scriptSource(file);
      const defined = [...lua.matchAll(/^local function (\w+)/gm)].map((match) => match[1]);
      expect(new Set(defined).size, file).toBe(defined.length);
    }
    expect(scriptSource("end-7.lua")).toMatch(/local function chunked[\s\S]*local function forgetReleased/);
    const dir = mkdtempSync(join(tmpdir(), "anteroom-lua-"));
    try {
      writeFileSync(join(dir, "broken-1.lua"), "-- @include nowhere\nreturn 1\n");
      expect(() => scriptSource("broken-1.lua", pathToFileURL(`${dir}/`))).toThrow(
        /broken-1\.lua includes a missing nowhere/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
