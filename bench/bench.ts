// `npm run bench`: visitor hot-path throughput against a plain node:http baseline, plus memory per waiting
// visitor. Servers run as child processes; the load generator (autocannon) runs here. Progress goes to
// stderr; results go to stdout, whose last line is one JSON object. See bench/README.md.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const MODES = ["embedded"] as const;
type Mode = (typeof MODES)[number];

const TARGETS = {
  status_ratio: 0.5,
  join_ratio: 0.2,
  status_p99_ms: 10,
  bytes_per_visitor: 120,
};
/** Non-2xx responses and connection errors allowed in a measured run before the bench fails. */
const MAX_ERROR_RATE = 0.01;

// ---------------------------------------------------------------------------------------------------------
// Arguments

interface Options {
  mode: Mode;
  duration: number;
  warmup: number;
  connections: number;
  prejoin: number;
  memoryVisitors: number;
  /** When set, the target runs with --cpu-prof and writes its profile here on exit. */
  cpuProf: string | undefined;
}

class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer`);
  return value;
}

function isMode(value: string): value is Mode {
  return (MODES as readonly string[]).includes(value);
}

function unknownMode(mode: string): UsageError {
  return new UsageError(
    `unknown --mode "${mode}": only ${MODES.map((m) => `"${m}"`).join(", ")} is implemented ` +
      "(embedded = SQLite record + in-process index, started here as a child process)",
  );
}

function parseOptions(argv: string[]): Options {
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
      connections: { type: "string" },
      prejoin: { type: "string" },
      "memory-visitors": { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(
      "usage: npm run bench -- [--duration <s>=10] [--warmup <s>=2] [--connections <n>=50]\n" +
        "                        [--prejoin <n>=100000] [--memory-visitors <n>=1000000] [--mode embedded]\n" +
        "                        [--cpu-prof <dir>]  (profile the server under test; written when it stops)\n",
    );
    process.exit(0);
  }
  const mode = values.mode;
  if (!isMode(mode)) throw unknownMode(mode);
  return {
    mode,
    duration: positiveInt("duration", values.duration, 10),
    warmup: positiveInt("warmup", values.warmup, 2),
    connections: positiveInt("connections", values.connections, 50),
    prejoin: positiveInt("prejoin", values.prejoin, 100_000),
    memoryVisitors: positiveInt("memory-visitors", values["memory-visitors"], 1_000_000),
    cpuProf: values["cpu-prof"] === undefined ? undefined : resolve(values["cpu-prof"]),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Child processes: every one is registered so it is killed however the bench ends.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function killEverythingNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.on("exit", killEverythingNow);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping children\n`);
    killEverythingNow();
    process.exit(130);
  });
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

interface Child {
  process: ChildProcess;
  name: string;
  /** The last lines the child wrote, for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<string>;
}

function startChild(name: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
    }
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve(signal ?? `exit code ${code}`);
    });
    child.once("error", (error) => {
      children.delete(child);
      resolve(`spawn error: ${error.message}`);
    });
  });
  return { process: child, name, tail: () => lines.join("\n"), exited };
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 5_000);
  await child.exited;
  clearTimeout(timer);
}

/** Environment for a server child: only what it needs, so a stray DB_URL or REDIS_URL cannot leak in. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls url until it answers 200; fails early if the child exits. */
async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  let exit: string | undefined;
  void child.exited.then((how) => {
    exit = how;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      throw new Error(`${child.name} exited during startup (${exit}):\n${child.tail()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.tail()}`);
}

// ---------------------------------------------------------------------------------------------------------
// Servers

interface Server {
  baseUrl: string;
  stop(): Promise<void>;
}

async function startPlain(): Promise<Server> {
  const port = await freePort();
  const child = startChild(
    "plain server",
    ["--import", "tsx", "bench/plain-server.ts"],
    childEnv({ PORT: String(port), HOST }),
  );
  const baseUrl = `http://${HOST}:${port}`;
  await waitReady(child, `${baseUrl}/`, 30_000);
  return { baseUrl, stop: () => stopChild(child) };
}

interface Target extends Server {
  describe: string;
  /** The server's last output lines, for error messages. */
  tail(): string;
  adminEmail: string;
  adminPassword: string;
}

interface TargetOptions {
  /** Directory for a V8 CPU profile of the server process (node --cpu-prof), written when it stops. */
  cpuProf?: string | undefined;
}

/**
 * The Anteroom under test. "embedded" starts `node bin/anteroom.js serve` (SQLite record, in-process index)
 * on a free port with a throwaway DATA_DIR. Other modes (a production-like stack) plug in here.
 */
async function startTarget(mode: string, options: TargetOptions = {}): Promise<Target> {
  const nodeArgs = options.cpuProf === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProf}`];
  switch (mode) {
    case "embedded": {
      const port = await freePort();
      const dataDir = mkdtempSync(join(tmpdir(), "anteroom-bench-"));
      tempDirs.add(dataDir);
      const adminEmail = "bench@example.com";
      const adminPassword = randomBytes(12).toString("hex");
      const child = startChild(
        "anteroom (embedded)",
        [...nodeArgs, "bin/anteroom.js", "serve"],
        childEnv({
          PORT: String(port),
          HOST,
          DATA_DIR: dataDir,
          ADMIN_EMAIL: adminEmail,
          ADMIN_PASSWORD: adminPassword,
          SECRET_KEY: randomBytes(32).toString("hex"),
          LOG_LEVEL: "warn",
          ALLOW_PRIVATE_CALLBACKS: "true",
        }),
      );
      const baseUrl = `http://${HOST}:${port}`;
      const stop = async (): Promise<void> => {
        await stopChild(child);
        rmSync(dataDir, { recursive: true, force: true });
        tempDirs.delete(dataDir);
      };
      try {
        await waitReady(child, `${baseUrl}/healthz`, 60_000);
      } catch (error) {
        await stop();
        throw error;
      }
      return {
        baseUrl,
        describe: "embedded (SQLite + in-process index)",
        adminEmail,
        adminPassword,
        stop,
        tail: () => child.tail(),
      };
    }
    default:
      throw unknownMode(mode);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Setup through the admin API

async function call(url: string, init: RequestInit, expected: number): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    throw new Error(`${init.method ?? "GET"} ${url} failed${cause}`);
  }
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${init.method ?? "GET"} ${url}: expected ${expected}, got ${response.status}: ${text}`);
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) throw new Error(`${url}: not a JSON object: ${text}`);
  return parsed as Record<string, unknown>;
}

function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== "string") throw new Error(`expected a string "${key}" in ${JSON.stringify(object)}`);
  return value;
}

interface Fixture {
  queueId: string;
  apiKey: string;
}

async function setUp(target: Target): Promise<Fixture> {
  const login = await call(
    `${target.baseUrl}/auth/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "password",
        username: target.adminEmail,
        password: target.adminPassword,
      }).toString(),
    },
    200,
  );
  const headers = {
    authorization: `Bearer ${stringField(login, "access_token")}`,
    "content-type": "application/json",
  };
  const application = await call(
    `${target.baseUrl}/applications/`,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        name: "bench",
        domain: "bench.example.com",
        callback_url: "http://127.0.0.1:9/cb",
      }),
    },
    201,
  );
  const queue = await call(
    `${target.baseUrl}/queues/`,
    {
      method: "POST",
      headers,
      body: JSON.stringify({
        application_id: stringField(application, "id"),
        name: "bench",
        max_users_per_minute: 1,
      }),
    },
    201,
  );
  return { queueId: stringField(queue, "id"), apiKey: stringField(application, "api_key") };
}

// ---------------------------------------------------------------------------------------------------------
// Load

interface Measured {
  label: string;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  perSecond: number;
  p50: number;
  p99: number;
  codes: Record<string, number>;
}

/** Runs autocannon; stops it at `deadlineMs` at the latest so nothing can run unbounded. */
async function cannon(label: string, options: autocannon.Options, deadlineMs: number): Promise<Measured> {
  const instance = autocannon(options);
  const timer = setTimeout(() => {
    log(`${label}: still running after ${deadlineMs} ms, stopping it`);
    instance.stop();
  }, deadlineMs);
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    clearTimeout(timer);
  }
  const codes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) codes[code] = stat.count;
  const ok = result["2xx"];
  return {
    label,
    seconds: result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    perSecond: result.duration > 0 ? ok / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    codes,
  };
}

function errorRate(run: Measured): number {
  const total = run.ok + run.non2xx + run.errors;
  return total === 0 ? 1 : (run.non2xx + run.errors) / total;
}

function describeRun(run: Measured): string {
  const codes = Object.entries(run.codes)
    .map(([code, count]) => `${code}:${count}`)
    .join(" ");
  return (
    `${run.ok} ok in ${run.seconds.toFixed(1)} s; non-2xx ${run.non2xx}, connection errors ${run.errors} ` +
    `(timeouts ${run.timeouts}); status codes ${codes || "none"}`
  );
}

function joinBody(queueId: string, visitorId: string): string {
  return JSON.stringify({ queue_id: queueId, visitor_id: visitorId });
}

/** POST /join requests, each with a visitor_id never used before (joining is idempotent per visitor). */
function joinRequests(
  fixture: Fixture,
  prefix: string,
  onJoined?: (status: number, body: string) => void,
): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: "POST",
      path: "/join",
      headers: { "content-type": "application/json", "x-api-key": fixture.apiKey },
      setupRequest: (request) => ({ ...request, body: joinBody(fixture.queueId, `${prefix}-${next++}`) }),
      ...(onJoined === undefined
        ? {}
        : { onResponse: (status: number, body: string) => onJoined(status, body) }),
    },
  ];
}

async function preJoin(
  target: Target,
  fixture: Fixture,
  options: Options,
): Promise<{ tokens: string[]; ms: number }> {
  const tokens: string[] = [];
  const started = performance.now();
  const run = await cannon(
    "pre-join",
    {
      url: target.baseUrl,
      connections: options.connections,
      amount: options.prejoin,
      sampleInt: 100, // the run ends on the first sample after the last response
      requests: joinRequests(fixture, "pre", (status, body) => {
        if (status !== 200) return;
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed === "object" && parsed !== null && "token" in parsed) {
          const token = parsed.token;
          if (typeof token === "string") tokens.push(token);
        }
      }),
    },
    300_000,
  );
  const ms = performance.now() - started;
  if (tokens.length < options.prejoin * (1 - MAX_ERROR_RATE)) {
    throw new Error(`pre-join got only ${tokens.length} of ${options.prejoin} tokens: ${describeRun(run)}`);
  }
  return { tokens, ms };
}

/**
 * Status polls over every pre-joined token: each connection cycles through its own share as a fixed list,
 * which autocannon encodes once, so the load generator spends no more per request than on the plain
 * server's single URL (generator and servers share this machine's cores).
 */
function statusLoad(
  tokens: readonly string[],
  connections: number,
): Pick<autocannon.Options, "requests" | "setupClient"> {
  const paths = tokens.map((token) => `/queue_status?token=${encodeURIComponent(token)}`);
  const share = Math.max(1, Math.ceil(paths.length / connections));
  let next = 0;
  return {
    requests: [{ method: "GET", path: paths[0] ?? "/queue_status" }],
    setupClient: (client) => {
      const start = (next++ % connections) * share;
      const mine = paths.slice(start, start + share);
      client.setRequests(
        (mine.length > 0 ? mine : paths.slice(0, 1)).map((path) => ({ method: "GET", path })),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Memory, measured in a fresh process so the servers' and autocannon's heaps do not blur it.

interface MemoryFigures {
  visitors: number;
  index_bytes_per_visitor: number;
  heap_bytes_per_visitor: number;
}

async function measureMemory(visitors: number): Promise<MemoryFigures> {
  const child = startChild(
    "memory probe",
    ["--expose-gc", "--import", "tsx", "bench/memory.ts", String(visitors)],
    childEnv({}),
  );
  let stdout = "";
  child.process.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  const timer = setTimeout(() => child.process.kill("SIGKILL"), 120_000);
  const how = await child.exited;
  clearTimeout(timer);
  const last = stdout.trim().split("\n").pop() ?? "";
  if (how !== "exit code 0") throw new Error(`memory probe failed (${how}):\n${child.tail()}`);
  const parsed: unknown = JSON.parse(last);
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    !("index_bytes_per_visitor" in parsed) ||
    !("heap_bytes_per_visitor" in parsed) ||
    typeof parsed.index_bytes_per_visitor !== "number" ||
    typeof parsed.heap_bytes_per_visitor !== "number"
  ) {
    throw new Error(`memory probe printed something unexpected: ${last}`);
  }
  return {
    visitors,
    index_bytes_per_visitor: parsed.index_bytes_per_visitor,
    heap_bytes_per_visitor: parsed.heap_bytes_per_visitor,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Report

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

function verdict(pass: boolean): string {
  return pass ? "PASS" : "FAIL";
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  // Whatever happens, the bench ends: a generous bound over all the fixed-length phases.
  const watchdogMs = (options.warmup * 2 + options.duration * 3) * 1000 + 600_000;
  setTimeout(() => {
    log(`still running after ${watchdogMs / 1000} s; giving up`);
    killEverythingNow();
    process.exit(1);
  }, watchdogMs).unref();

  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const servers: Server[] = [];
  const failures: string[] = [];
  let plain: Measured;
  let join: Measured;
  let status: Measured;
  let preJoinMs: number;
  let prejoined: number;
  let targetName: string;
  let target: Target | undefined;
  try {
    log("starting the plain node:http server and Anteroom");
    const plainServer = await startPlain();
    servers.push(plainServer);
    target = await startTarget(options.mode, { cpuProf: options.cpuProf });
    servers.push(target);
    targetName = target.describe;

    log(`plain GET /: ${options.warmup} s warm-up, then ${options.duration} s`);
    const deadline = (seconds: number): number => (seconds + 30) * 1000;
    const plainOptions = { url: `${plainServer.baseUrl}/`, connections: options.connections };
    await cannon("plain warm-up", { ...plainOptions, duration: options.warmup }, deadline(options.warmup));
    plain = await cannon(
      "plain",
      { ...plainOptions, duration: options.duration },
      deadline(options.duration),
    );
    // The baseline is done: stop it so it does not compete for CPU with Anteroom.
    await plainServer.stop();

    log("creating an application and a queue (1 release per minute)");
    const fixture = await setUp(target);

    log(`pre-joining ${options.prejoin} visitors`);
    const pre = await preJoin(target, fixture, options);
    preJoinMs = pre.ms;
    prejoined = pre.tokens.length;

    log(`POST /join: ${options.duration} s, a fresh visitor_id per request`);
    join = await cannon(
      "join",
      {
        url: target.baseUrl,
        connections: options.connections,
        duration: options.duration,
        requests: joinRequests(fixture, "join"),
      },
      deadline(options.duration),
    );

    log(
      `GET /queue_status: ${options.warmup} s warm-up, then ${options.duration} s over the pre-joined tokens`,
    );
    const statusOptions = { url: target.baseUrl, connections: options.connections };
    await cannon(
      "status warm-up",
      { ...statusOptions, duration: options.warmup, ...statusLoad(pre.tokens, options.connections) },
      deadline(options.warmup),
    );
    status = await cannon(
      "status",
      { ...statusOptions, duration: options.duration, ...statusLoad(pre.tokens, options.connections) },
      deadline(options.duration),
    );
  } catch (error) {
    const tail = target?.tail() ?? "";
    if (tail !== "") log(`the server's last output:\n${tail}`);
    throw error;
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
  if (options.cpuProf !== undefined) log(`server CPU profile written to ${options.cpuProf}`);

  log(`memory: one queue with ${options.memoryVisitors} waiting visitors in MemoryQueueIndex`);
  const memory = await measureMemory(options.memoryVisitors);
  const bytesPerVisitor = Math.max(memory.index_bytes_per_visitor, memory.heap_bytes_per_visitor);

  const joinRatio = plain.perSecond > 0 ? join.perSecond / plain.perSecond : 0;
  const statusRatio = plain.perSecond > 0 ? status.perSecond / plain.perSecond : 0;
  for (const run of [join, status]) {
    const rate = errorRate(run);
    if (rate > MAX_ERROR_RATE) {
      failures.push(`${run.label}: ${(rate * 100).toFixed(2)}% errors (limit 1%): ${describeRun(run)}`);
    }
  }

  const ms = (value: number): string => `${value.toFixed(1)} ms`;
  const perS = (value: number): string => `${Math.round(value)} req/s`;
  out("");
  out(`Anteroom benchmark: ${options.mode} mode, ${targetName}`);
  out(`  ${options.connections} connections, ${options.duration} s per run, load generator in-process`);
  out(`plain node:http   ${perS(plain.perSecond)}  p50 ${ms(plain.p50)}  p99 ${ms(plain.p99)}`);
  out(
    `pre-join          ${prejoined} visitors in ${(preJoinMs / 1000).toFixed(1)} s ` +
      `(${Math.round(prejoined / (preJoinMs / 1000))} joins/s, queue growing from empty)`,
  );
  out(`join              ${perS(join.perSecond)}  p50 ${ms(join.p50)}  p99 ${ms(join.p99)}`);
  out(`                  ${describeRun(join)}`);
  out(`status            ${perS(status.perSecond)}  p50 ${ms(status.p50)}  p99 ${ms(status.p99)}`);
  out(`                  ${describeRun(status)}`);
  out(`join / plain      ${joinRatio.toFixed(3)}`);
  out(`status / plain    ${statusRatio.toFixed(3)}`);
  out(
    `memory            ${memory.index_bytes_per_visitor.toFixed(2)} B/visitor by the index's accounting, ` +
      `${memory.heap_bytes_per_visitor.toFixed(2)} B/visitor heap growth (${memory.visitors} visitors)`,
  );
  out("targets");
  out(`  ${verdict(statusRatio >= TARGETS.status_ratio)}  status_ratio ${statusRatio.toFixed(3)} >= 0.5`);
  out(`  ${verdict(joinRatio >= TARGETS.join_ratio)}  join_ratio ${joinRatio.toFixed(3)} >= 0.2`);
  out(`  ${verdict(status.p99 < TARGETS.status_p99_ms)}  status p99 ${ms(status.p99)} < 10 ms`);
  out(
    `  ${verdict(bytesPerVisitor <= TARGETS.bytes_per_visitor)}  bytes_per_visitor ` +
      `${bytesPerVisitor.toFixed(2)} <= 120`,
  );
  for (const failure of failures) out(`ERROR ${failure}`);
  out(
    JSON.stringify({
      join_per_s: Math.round(join.perSecond),
      status_per_s: Math.round(status.perSecond),
      plain_per_s: Math.round(plain.perSecond),
      join_ratio: round(joinRatio, 3),
      status_ratio: round(statusRatio, 3),
      join_p99_ms: round(join.p99, 2),
      status_p99_ms: round(status.p99, 2),
      bytes_per_visitor: round(bytesPerVisitor, 2),
    }),
  );
  if (failures.length > 0) {
    log(`FAILED: too many errors (see the ERROR lines above)`);
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
