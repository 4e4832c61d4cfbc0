import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";

/**
 * Loads the hot index's Lua scripts: ./lua/<name>-<numKeys>.lua, each opening with a header that lists
 * its KEYS and ARGV. A line `-- @include <helper>` is replaced at load by ./lua/include/<helper>.lua, so
 * a helper is written once yet each script is still sent whole, as one atomic EVALSHA.
 */

/** Every script, by file name: the one list. Names and key counts are read from it. */
export const SCRIPT_FILES = [
  "abandoned-1.lua",
  "add-waiting-5.lua",
  "end-7.lua",
  "mark-released-5.lua",
  "mark-seen-2.lua",
  "poll-8.lua",
  "prune-5.lua",
  "ranks-8.lua",
] as const;

/** "mark-released-5.lua" -> "mark-released": the name wrappers call a script by. */
type NameOf<File extends string> = File extends `${infer Head}-${infer Rest}`
  ? Rest extends `${number}.lua`
    ? Head
    : `${Head}-${NameOf<Rest>}`
  : never;

export type ScriptName = NameOf<(typeof SCRIPT_FILES)[number]>;

const FILE_NAME = /^([a-z][a-z-]*)-(\d+)\.lua$/;
const INCLUDE = /^--\s*@include\s+([a-z][a-z0-9-]*)\s*$/;

/** A script's name and key count, from its file name. */
export function parseScriptFile(file: string): { name: string; numberOfKeys: number } {
  const match = FILE_NAME.exec(file);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new Error(`hot index Lua script ${file} is not named <name>-<numKeys>.lua`);
  }
  return { name: match[1], numberOfKeys: Number(match[2]) };
}

/**
 * Where the .lua files are: next to this module when run from the sources (tsx), else, in a `dist/` build
 * (tsc does not copy them), the same path under `src/`.
 */
export function luaDirectory(moduleUrl: string = import.meta.url): URL {
  const probe = SCRIPT_FILES[0];
  const beside = new URL("./lua/", moduleUrl);
  if (existsSync(new URL(probe, beside))) return beside;
  const at = beside.href.lastIndexOf("/dist/");
  if (at >= 0) {
    const source = new URL(`${beside.href.slice(0, at)}/src/${beside.href.slice(at + "/dist/".length)}`);
    if (existsSync(new URL(probe, source))) return source;
  }
  throw new Error(
    `hot index Lua scripts not found in ${fileURLToPath(beside)} (nor under src/ for a dist build)`,
  );
}

/**
 * Replaces each `-- @include <helper>` line with the directive followed by the helper's text (which may
 * include others). A helper goes in once per script, where it is first included: helpers define locals,
 * and a second copy would only shadow the first.
 */
export function inlineIncludes(
  source: string,
  readInclude: (helper: string) => string,
  included: Set<string> = new Set(),
): string {
  return source
    .split("\n")
    .map((line) => {
      const helper = INCLUDE.exec(line)?.[1];
      if (helper === undefined || included.has(helper)) return line;
      included.add(helper);
      return `${line}\n${inlineIncludes(readInclude(helper), readInclude, included).trimEnd()}`;
    })
    .join("\n");
}

/** A script's source with its includes inlined, as sent to Redis. */
export function scriptSource(file: string, dir: URL = luaDirectory()): string {
  const readInclude = (helper: string): string => {
    const path = new URL(`include/${helper}.lua`, dir);
    if (!existsSync(path)) throw new Error(`hot index Lua script ${file} includes a missing ${helper}`);
    return readFileSync(path, "utf8");
  };
  return inlineIncludes(readFileSync(new URL(file, dir), "utf8"), readInclude);
}

type Arg = string | number;
type Command = (...args: Arg[]) => Promise<unknown>;

/** A script defined on one connection: call it with exactly its keys, then its arguments. */
export type ScriptCall = (keys: readonly string[], args: readonly Arg[]) => Promise<unknown>;

// Read once per process: every connection defines the same text.
let sources: Map<string, string> | undefined;

function loadedSources(): Map<string, string> {
  if (sources === undefined) {
    const dir = luaDirectory();
    sources = new Map(SCRIPT_FILES.map((file) => [file, scriptSource(file, dir)]));
  }
  return sources;
}

const isCommand = (value: unknown): value is Command => typeof value === "function";
const camelCase = (name: string): string =>
  name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * Defines every script on the connection (as `anteroomIndex_<camelCaseName>`, for ioredis to send by
 * EVALSHA, or EVAL the first time on a socket) and returns them by name (a ScriptName).
 */
export function defineScripts(redis: Redis): Map<string, ScriptCall> {
  const calls = new Map<string, ScriptCall>();
  for (const [file, lua] of loadedSources()) {
    const { name, numberOfKeys } = parseScriptFile(file);
    const command = `anteroomIndex_${camelCase(name)}`;
    redis.defineCommand(command, { numberOfKeys, lua });
    const defined: unknown = Reflect.get(redis, command);
    if (!isCommand(defined)) throw new Error(`ioredis did not define the ${command} command`);
    const bound = defined.bind(redis);
    const call: ScriptCall = (keys, args) => {
      // ioredis takes the first numberOfKeys arguments as keys: a wrong count would shift them silently.
      if (keys.length !== numberOfKeys) {
        throw new Error(`the ${name} script takes ${numberOfKeys} keys, given ${keys.length}`);
      }
      return bound(...keys, ...args);
    };
    calls.set(name, call);
  }
  return calls;
}
