// The bench's results: per-round figures, medians, target verdicts and the final JSON line (stdout).
import { describeRun, type Measured } from "./load.js";
import type { EndedFigures, MemoryFigures } from "./memory-probe.js";

/** The targets of each mode (issue: visitor flow for embedded, production deployment for production). */
export const TARGETS = {
  embedded: {
    status_ratio: 0.5,
    join_ratio: 0.2,
    status_p99_ms: 10,
    bytes_per_visitor: 120,
    bytes_per_ended_ticket: 24,
  },
  production: { status_ratio: 0.35, join_ratio: 0.08, join_p99_ms: 50 },
} as const;

interface Check {
  pass: boolean;
  text: string;
}

function checks(
  mode: string,
  s: ReturnType<typeof summarize>,
  bytes: number,
  ended: EndedFigures | undefined,
): Check[] {
  const ratio = (name: string, value: number, min: number): Check => ({
    pass: value >= min,
    text: `${name} ${value.toFixed(3)} >= ${min}`,
  });
  if (mode === "production") {
    const t = TARGETS.production;
    return [
      ratio("status_ratio", s.statusRatio, t.status_ratio),
      ratio("join_ratio", s.joinRatio, t.join_ratio),
      { pass: s.join.p99 < t.join_p99_ms, text: `join p99 ${ms(s.join.p99)} < ${t.join_p99_ms} ms (median)` },
    ];
  }
  const t = TARGETS.embedded;
  return [
    ratio("status_ratio", s.statusRatio, t.status_ratio),
    ratio("join_ratio", s.joinRatio, t.join_ratio),
    {
      pass: s.status.p99 < t.status_p99_ms,
      text: `status p99 ${ms(s.status.p99)} < ${t.status_p99_ms} ms (median)`,
    },
    {
      pass: bytes <= t.bytes_per_visitor,
      text: `bytes_per_visitor ${bytes.toFixed(2)} <= ${t.bytes_per_visitor}`,
    },
    ...(ended === undefined
      ? []
      : [
          {
            pass: ended.bytes_per_ticket <= t.bytes_per_ended_ticket,
            text: `bytes_per_ended_ticket ${ended.bytes_per_ticket.toFixed(2)} <= ${t.bytes_per_ended_ticket}`,
          },
        ]),
  ];
}

/** One interleaved round: plain, then join, then status, each for the same duration. */
export interface Round {
  /** 1-based. */
  index: number;
  plain: Measured;
  join: Measured;
  status: Measured;
  /** Visitors in the queue when the round's join run started (it releases 1 per minute, ignored here). */
  waitingAtJoin: number;
}

interface RunSummary {
  perSecond: number;
  p50: number;
  p99: number;
}

export interface Summary {
  rounds: number;
  plain: RunSummary;
  join: RunSummary;
  status: RunSummary;
  /** Median over the rounds of join_r / plain_r (not the ratio of the median rates). */
  joinRatio: number;
  statusRatio: number;
  joinRatios: number[];
  statusRatios: number[];
}

/** The middle value; the mean of the two middle values for an even count. 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}

const ratio = (run: Measured, plain: Measured): number =>
  plain.perSecond > 0 ? run.perSecond / plain.perSecond : 0;

function medianRun(runs: readonly Measured[]): RunSummary {
  return {
    perSecond: median(runs.map((run) => run.perSecond)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
  };
}

export function summarize(rounds: readonly Round[]): Summary {
  const joinRatios = rounds.map((round) => ratio(round.join, round.plain));
  const statusRatios = rounds.map((round) => ratio(round.status, round.plain));
  return {
    rounds: rounds.length,
    plain: medianRun(rounds.map((round) => round.plain)),
    join: medianRun(rounds.map((round) => round.join)),
    status: medianRun(rounds.map((round) => round.status)),
    joinRatio: median(joinRatios),
    statusRatio: median(statusRatios),
    joinRatios,
    statusRatios,
  };
}

export interface ReportContext {
  mode: string;
  describe: string;
  connections: number;
  urls: number;
  duration: number;
  warmup: number;
  prejoined: number;
  preJoinMs: number;
  memory: MemoryFigures;
  /** Runs over the error-rate limit, one line each. */
  failures: readonly string[];
}

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const perS = (value: number): string => `${Math.round(value)} req/s`;
const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");
const pad = (value: string | number, width: number): string => String(value).padStart(width);

function spread(values: readonly number[], digits: number): string {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const relative = median(values) > 0 ? ((max - min) / median(values)) * 100 : 0;
  return `rounds ${min.toFixed(digits)} .. ${max.toFixed(digits)}, spread ${relative.toFixed(0)}% of the median`;
}

function roundTable(rounds: readonly Round[], summary: Summary): string[] {
  const lines = [
    "round   plain/s  p99 ms    join/s  p99 ms  status/s  p99 ms  join/plain  status/plain  queue at join",
  ];
  for (const [i, r] of rounds.entries()) {
    lines.push(
      [
        pad(r.index, 5),
        pad(Math.round(r.plain.perSecond), 9),
        pad(r.plain.p99.toFixed(1), 7),
        pad(Math.round(r.join.perSecond), 9),
        pad(r.join.p99.toFixed(1), 7),
        pad(Math.round(r.status.perSecond), 9),
        pad(r.status.p99.toFixed(1), 7),
        pad((summary.joinRatios[i] ?? 0).toFixed(3), 11),
        pad((summary.statusRatios[i] ?? 0).toFixed(3), 13),
        pad(r.waitingAtJoin, 14),
      ].join(" "),
    );
  }
  return lines;
}

function responseLines(rounds: readonly Round[]): string[] {
  const lines: string[] = [];
  for (const r of rounds) {
    for (const run of [r.plain, r.join, r.status]) {
      lines.push(`  round ${r.index} ${run.label.padEnd(6)} ${describeRun(run)}`);
    }
  }
  return lines;
}

export function bytesPerVisitor(memory: MemoryFigures): number {
  return Math.max(memory.index_bytes_per_visitor, memory.heap_bytes_per_visitor);
}

/** Writes the whole report through `out`, one line per call; the last line is the JSON object. */
export function report(out: (line: string) => void, rounds: readonly Round[], context: ReportContext): void {
  const s = summarize(rounds);
  const memory = context.memory;
  const bytes = bytesPerVisitor(memory);
  out("");
  out(`Anteroom benchmark: ${context.mode} mode, ${context.describe}`);
  out(
    `  ${context.connections} connections over ${context.urls} target URL(s), load generator in-process; ` +
      `${s.rounds} interleaved rounds of plain -> join -> status, ${context.duration} s each ` +
      `(${context.warmup} s warm-up before the first of each kind)`,
  );
  out(
    `pre-join          ${context.prejoined} visitors in ${(context.preJoinMs / 1000).toFixed(1)} s ` +
      `(${Math.round(context.prejoined / (context.preJoinMs / 1000))} joins/s, queue growing from empty)`,
  );
  out("per round (the queue keeps growing: every join run adds its visitors, none leave)");
  for (const line of roundTable(rounds, s)) out(`  ${line}`);
  out("responses");
  for (const line of responseLines(rounds)) out(line);
  out(
    `medians over ${s.rounds} rounds (ratios: median of the per-round ratios join_r / plain_r and ` +
      "status_r / plain_r, not a ratio of median rates; p99: median of the per-round p99s)",
  );
  for (const [name, run] of [
    ["plain node:http", s.plain],
    ["join", s.join],
    ["status", s.status],
  ] as const) {
    out(`${name.padEnd(18)}${perS(run.perSecond)}  p50 ${ms(run.p50)}  p99 ${ms(run.p99)}`);
  }
  out(
    `plain spread      ${spread(
      rounds.map((r) => r.plain.perSecond),
      0,
    )}`,
  );
  out(`join / plain      ${s.joinRatio.toFixed(3)}  (${spread(s.joinRatios, 3)})`);
  out(`status / plain    ${s.statusRatio.toFixed(3)}  (${spread(s.statusRatios, 3)})`);
  out(
    context.mode === "production"
      ? `memory            ${memory.index_bytes_per_visitor.toFixed(2)} B/visitor of Redis used_memory (${memory.visitors} visitors)`
      : `memory            ${memory.index_bytes_per_visitor.toFixed(2)} B/visitor by the index's accounting, ` +
          `${memory.heap_bytes_per_visitor.toFixed(2)} B/visitor heap growth (${memory.visitors} visitors)`,
  );
  if (memory.lookup_ns !== undefined) {
    const { small, full } = memory.lookup_ns;
    out(
      `index lookup      ${(full / 1000).toFixed(2)} us with ${memory.visitors} waiting, ` +
        `${(small / 1000).toFixed(2)} us with 10000 (x${(full / small).toFixed(2)})`,
    );
  }
  const ended = memory.ended;
  if (ended !== undefined) {
    out(
      `ended tickets     ${ended.bytes_per_ticket.toFixed(2)} B/ticket heap growth after ${ended.tickets} ` +
        `join -> cancel (cap lifted, before pruning); with the default cap of ${ended.cap} per queue: ` +
        `${ended.held_capped} held, ${(ended.bytes_capped / 1024 / 1024).toFixed(2)} MiB`,
    );
  }
  out(`targets (${context.mode} mode)`);
  for (const check of checks(context.mode, s, bytes, ended)) out(`  ${verdict(check.pass)}  ${check.text}`);
  for (const failure of context.failures) out(`ERROR ${failure}`);
  out(
    JSON.stringify({
      join_per_s: Math.round(s.join.perSecond),
      status_per_s: Math.round(s.status.perSecond),
      plain_per_s: Math.round(s.plain.perSecond),
      join_ratio: round(s.joinRatio, 3),
      status_ratio: round(s.statusRatio, 3),
      join_p99_ms: round(s.join.p99, 2),
      status_p99_ms: round(s.status.p99, 2),
      bytes_per_visitor: round(bytes, 2),
      ...(ended === undefined ? {} : { bytes_per_ended_ticket: round(ended.bytes_per_ticket, 2) }),
    }),
  );
}
