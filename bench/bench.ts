// `npm run bench`: visitor hot-path throughput against a plain node:http baseline, plus memory per waiting
// visitor. Servers run as child processes; the load generator (autocannon) runs here. The plain server and
// Anteroom are measured in interleaved rounds (plain, join, status) and the ratios are medians of the
// per-round ratios, so a noisy neighbour slowing the machine for a while moves both sides of a ratio.
// Progress goes to stderr; results go to stdout, whose last line is one JSON object. See bench/README.md.
import { runAnalyticsBench } from "./analytics.js";
import { type Fixture, setUp } from "./fixture.js";
import {
  cannon,
  describeRun,
  errorRate,
  joinLoad,
  type Load,
  MAX_ERROR_RATE,
  type Measured,
  type PreJoined,
  plainLoad,
  preJoin,
  statusLoad,
} from "./load.js";
import { type MemoryFigures, measureMemory } from "./memory-probe.js";
import { type Options, parseOptions, UsageError } from "./options.js";
import { installCleanup, killEverythingNow, log, startWatchdog } from "./processes.js";
import { type Round, report } from "./report.js";
import { runSseBench, SSE_DEFAULT_CONNECTIONS } from "./sse.js";
import { type Server, startPlain, startTarget, type Target } from "./targets.js";

/** Bound on one autocannon run: its length plus slack for connecting and draining. */
const deadline = (seconds: number): number => (seconds + 30) * 1000;

/**
 * `options.rounds` rounds of plain, join, status, each `options.duration` seconds; the first run of each
 * kind follows a warm-up of `options.warmup` seconds. Every join run adds its visitors to the queue.
 */
async function measureRounds(
  options: Options,
  plain: Server,
  target: Target,
  fixture: Fixture,
  pre: PreJoined,
): Promise<Round[]> {
  const connections = options.connections;
  const status = statusLoad(pre.tokens);
  let joinBatch = 0; // visitor ids are j<batch>-<n>: fresh in every join run, warm-ups included
  const join = (seconds: number): Load => joinLoad(fixture, `j${++joinBatch}`, connections, seconds);
  let waiting = pre.tokens.length;
  const rounds: Round[] = [];
  for (let index = 1; index <= options.rounds; index++) {
    const first = index === 1;
    /** Optional warm-up, then the measured run; returns the warm-up's 2xx count and the measured run. */
    const phase = async (
      label: string,
      urls: readonly string[],
      load: (seconds: number) => Load,
    ): Promise<[number, Measured]> => {
      const warm = first
        ? await cannon(`${label} warm-up`, urls, load(options.warmup), deadline(options.warmup))
        : undefined;
      return [warm?.ok ?? 0, await cannon(label, urls, load(options.duration), deadline(options.duration))];
    };
    log(
      `round ${index}/${options.rounds}: plain, join, status, ${options.duration} s each` +
        (first ? ` (after ${options.warmup} s warm-ups)` : ""),
    );
    const [, plainRun] = await phase("plain", plain.baseUrls, (s) => plainLoad(connections, s));
    const [warmJoined, joinRun] = await phase("join", target.baseUrls, join);
    const waitingAtJoin = waiting + warmJoined;
    waiting = waitingAtJoin + joinRun.ok;
    const [, statusRun] = await phase("status", target.baseUrls, (s) => status(connections, s));
    rounds.push({ index, plain: plainRun, join: joinRun, status: statusRun, waitingAtJoin });
  }
  return rounds;
}

/** One line per measured run over the error-rate limit. */
function tooManyErrors(rounds: readonly Round[]): string[] {
  const failures: string[] = [];
  for (const round of rounds) {
    for (const run of [round.plain, round.join, round.status]) {
      const rate = errorRate(run);
      if (rate > MAX_ERROR_RATE) {
        failures.push(
          `round ${round.index} ${run.label}: ${(rate * 100).toFixed(2)}% errors ` +
            `(limit ${MAX_ERROR_RATE * 100}%): ${describeRun(run)}`,
        );
      }
    }
  }
  return failures;
}

/**
 * `--sse [N]` (and `--sse-batches B`): the live-updates bench instead (bench/sse.ts). Returns undefined when
 * the arguments do not ask for it.
 */
function sseOptions(argv: readonly string[]): { connections: number; batches: number } | undefined {
  const at = argv.indexOf("--sse");
  if (at < 0) return undefined;
  const value = argv[at + 1];
  const connections = value === undefined || value.startsWith("--") ? SSE_DEFAULT_CONNECTIONS : Number(value);
  const batchesAt = argv.indexOf("--sse-batches");
  const batches = batchesAt < 0 ? 20 : Number(argv[batchesAt + 1]);
  if (!Number.isInteger(connections) || connections < 1) {
    throw new UsageError("--sse takes a positive integer (streams to open; default 20000)");
  }
  if (!Number.isInteger(batches) || batches < 1)
    throw new UsageError("--sse-batches takes a positive integer");
  return { connections, batches };
}

async function main(): Promise<number> {
  installCleanup();
  const sse = sseOptions(process.argv.slice(2));
  if (sse !== undefined) {
    startWatchdog(600_000);
    return runSseBench(sse);
  }
  const args = process.argv.slice(2);
  if (args.includes("--analytics")) {
    startWatchdog(600_000);
    const options = parseOptions(args.filter((arg) => arg !== "--analytics"));
    return runAnalyticsBench(options.mode, { cpuProf: options.cpuProf });
  }
  const options = parseOptions(args);
  // Whatever happens, the bench ends: the fixed-length phases plus a generous bound for the rest
  // (startup, pre-join, which stops itself after 300 s, and the memory probe, killed after 120 s).
  startWatchdog((options.warmup * 3 + options.duration * 3 * options.rounds) * 1000 + 600_000);

  const servers: Server[] = [];
  let target: Target | undefined;
  let pre: PreJoined;
  let rounds: Round[];
  let memory: MemoryFigures | undefined;
  try {
    log("starting the plain node:http server and Anteroom");
    const plain = await startPlain();
    servers.push(plain);
    target = await startTarget(options.mode, { cpuProf: options.cpuProf });
    servers.push(target);

    log("creating an application and a queue (1 release per minute)");
    const fixture = await setUp(target);
    log(`pre-joining ${options.prejoin} visitors`);
    pre = await preJoin(target.baseUrls, fixture, options.prejoin, options.connections);
    // The plain server stays up (idle) between its runs, so every round measures it under the same setup.
    rounds = await measureRounds(options, plain, target, fixture, pre);
    if (target.measureMemory !== undefined) {
      log(`memory: one queue with ${options.memoryVisitors} waiting visitors in the target's index`);
      memory = await target.measureMemory(options.memoryVisitors);
    }
  } catch (error) {
    const tail = target?.tail() ?? "";
    if (tail !== "") log(`the server's last output:\n${tail}`);
    throw error;
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
  if (options.cpuProf !== undefined) log(`server CPU profile written to ${options.cpuProf}`);

  if (memory === undefined) {
    log(`memory: one queue with ${options.memoryVisitors} waiting visitors in MemoryQueueIndex`);
    memory = await measureMemory(options.memoryVisitors);
  }

  const failures = tooManyErrors(rounds);
  report((line) => process.stdout.write(`${line}\n`), rounds, {
    mode: options.mode,
    describe: target.describe,
    connections: options.connections,
    urls: target.baseUrls.length,
    duration: options.duration,
    warmup: options.warmup,
    prejoined: pre.tokens.length,
    preJoinMs: pre.ms,
    memory,
    failures,
  });
  if (failures.length > 0) {
    const tail = target.tail();
    if (tail !== "") log(`the server's last output:\n${tail}`);
    log("FAILED: too many errors (see the ERROR lines above)");
    return 1;
  }
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(
      `bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
} finally {
  killEverythingNow();
}
