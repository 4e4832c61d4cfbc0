// Command-line options of `npm run bench`.
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export const MODES = ["embedded", "production"] as const;
export type Mode = (typeof MODES)[number];

export interface Options {
  mode: Mode;
  /** Seconds per measured run. */
  duration: number;
  /** Seconds of warm-up before the first measured run of each kind (plain, join, status). */
  warmup: number;
  /** Interleaved rounds of plain, join, status; ratios are medians of the per-round ratios. */
  rounds: number;
  connections: number;
  prejoin: number;
  memoryVisitors: number;
  /** When set, the target runs with --cpu-prof and writes its profile here on exit. */
  cpuProf: string | undefined;
}

const DEFAULTS = {
  duration: 8,
  warmup: 2,
  rounds: 5,
  connections: 50,
  prejoin: 100_000,
  memoryVisitors: 1_000_000,
};

const HELP =
  `usage: npm run bench -- [--duration <s>=${DEFAULTS.duration}] [--warmup <s>=${DEFAULTS.warmup}] ` +
  `[--rounds <n>=${DEFAULTS.rounds}]\n` +
  `                        [--connections <n>=${DEFAULTS.connections}] [--prejoin <n>=${DEFAULTS.prejoin}] ` +
  `[--memory-visitors <n>=${DEFAULTS.memoryVisitors}]\n` +
  "                        [--mode embedded] [--cpu-prof <dir>]\n" +
  "  Each round measures plain node:http, then POST /join, then GET /queue_status for --duration seconds;\n" +
  "  the reported ratios are medians of the per-round ratios.\n" +
  "  --cpu-prof <dir>  profile the server under test; written when it stops\n" +
  "  --sse [N]         instead: N live-update (SSE) visitors, default 20000 (--sse-batches B, default 20)\n" +
  "  --analytics       instead: GET /dashboard/analytics over 90 days of rollups of 1M visitors a day\n";

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
  return value;
}

function isMode(value: string): value is Mode {
  return (MODES as readonly string[]).includes(value);
}

export function unknownMode(mode: string): UsageError {
  return new UsageError(
    `unknown --mode "${mode}": use ${MODES.map((m) => `"${m}"`).join(" or ")} ` +
      "(embedded = one process, SQLite + in-process index; production = PostgreSQL + Redis, 2 API processes and a worker)",
  );
}

/** Parses argv (without node and the script); prints the help and exits on --help. */
export function parseOptions(argv: string[]): Options {
  try {
    return readOptions(argv);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${error instanceof Error ? error.message : String(error)} (try --help)`);
  }
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      mode: { type: "string", default: "embedded" },
      duration: { type: "string" },
      warmup: { type: "string" },
      rounds: { type: "string" },
      connections: { type: "string" },
      prejoin: { type: "string" },
      "memory-visitors": { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const mode = values.mode;
  if (!isMode(mode)) throw unknownMode(mode);
  const options: Options = {
    mode,
    duration: positiveInt("duration", values.duration, DEFAULTS.duration),
    warmup: positiveInt("warmup", values.warmup, DEFAULTS.warmup),
    rounds: positiveInt("rounds", values.rounds, DEFAULTS.rounds),
    connections: positiveInt("connections", values.connections, DEFAULTS.connections),
    prejoin: positiveInt("prejoin", values.prejoin, DEFAULTS.prejoin),
    memoryVisitors: positiveInt("memory-visitors", values["memory-visitors"], DEFAULTS.memoryVisitors),
    cpuProf: values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]),
  };
  // autocannon needs at least one request per connection when it runs for a fixed amount.
  if (options.prejoin < options.connections) {
    throw new UsageError("--prejoin must be at least --connections");
  }
  return options;
}
