// `npm run bench -- --sse [N]` (N default 20,000): live updates at scale. An embedded Anteroom runs in a
// child process (bench/sse-server.ts, the worker's loop stopped so the bench triggers each release batch);
// N visitors join one queue, then open GET /queue_events from client child processes (bench/sse-clients.ts,
// raw sockets on loopback). Reported: the streams held at once, the server's memory growth per stream
// (heap + external, and RSS, after GC; the larger is sse_bytes_per_connection), and the time from the
// start of a release batch to the released visitors' events arriving. See bench/README.md.

import { type ChildProcess, execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { streamCapacity } from "../src/start/open-files.js";
import { type Child, log, makeTempDir, sleep, startChild, stopChild } from "./processes.js";
import type { SseClientsReply, SseClientsRequest } from "./sse-clients.js";
import type { SseServerReply, SseServerRequest } from "./sse-server.js";

export const SSE_DEFAULT_CONNECTIONS = 20_000;

export interface SseOptions {
  connections: number;
  /** Release batches, one a second. */
  batches: number;
}

/** Targets of the issue. */
const TARGET_BYTES = 20 * 1024;
const TARGET_P99_MS = 1_000;
/** Streams per client process: well under a default `ulimit -n` of 20,000 or even 8,192. */
const PER_CLIENT = 5_000;
/** File descriptors a process needs besides its sockets (stdio, the database, the event loop, ...). */
const FD_SLACK = 1_024;
/** Kept free in the server beyond what it had open at start (the odd file or connection of its own). */
const FD_MARGIN = 16;

/** The open-files limit a child started through `sh -c 'ulimit -n <want>'` gets, or the current one. */
function fileLimit(want: number): { limit: number; raised: boolean } {
  const read = (script: string): number =>
    Number(execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim());
  const current = read("ulimit -n");
  if (current >= want) return { limit: current, raised: false };
  try {
    return { limit: read(`ulimit -n ${want} 2>/dev/null && ulimit -n`), raised: true };
  } catch {
    return { limit: current, raised: false };
  }
}

/** A node child with an IPC channel, its open-files limit raised to `files` when the system allows it. */
function startIpcChild(name: string, args: string[], files: number): Child {
  const script = `ulimit -n ${files} 2>/dev/null; exec "$0" "$@"`;
  return startChild(name, ["-c", script, process.execPath, ...args], childEnvForBench(), "sh", {
    ipc: true,
  });
}

function childEnvForBench(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Sends one request and waits for the child's next message (each child answers one at a time). */
function ask<Reply>(child: ChildProcess, request: object, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(request).slice(0, 80)}`));
    }, timeoutMs);
    const onMessage = (message: unknown) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      const reply = message as { kind?: string; message?: string };
      if (reply.kind === "error") reject(new Error(`child failed: ${reply.message ?? ""}`));
      else resolve(message as Reply);
    };
    child.on("message", onMessage);
    child.send(request);
  });
}

function waitMessage<Reply>(child: Child, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${child.name}: no message within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.process.once("message", (message) => {
      clearTimeout(timer);
      resolve(message as Reply);
    });
    void child.exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`${child.name} exited (${how}):\n${child.tail()}`));
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
const verdict = (pass: boolean): string => (pass ? "PASS" : "FAIL");

export async function runSseBench(requested: SseOptions): Promise<number> {
  let connections = requested.connections;
  const serverFiles = fileLimit(connections + FD_SLACK);
  if (serverFiles.raised)
    log(`open-files limit raised to ${serverFiles.limit} for the server child (ulimit -n)`);
  const clientCount = Math.max(1, Math.ceil(connections / PER_CLIENT));
  const dir = makeTempDir("anteroom-sse-bench-");
  const children: Child[] = [];
  try {
    log(`starting the embedded server (${availableParallelism()} cores)`);
    const server = startIpcChild(
      "sse-server",
      ["--expose-gc", "--import", "tsx", "bench/sse-server.ts", dir.path],
      connections + FD_SLACK,
    );
    children.push(server);
    const ready = await waitMessage<Extract<SseServerReply, { kind: "ready" }>>(server, 60_000);
    const port = ready.port;
    // Every stream is a socket, a file descriptor of the server: past its open-files limit it cannot
    // accept more. Measure as many as fit, and say so.
    const room = serverFiles.limit - ready.fds - FD_MARGIN;
    if (connections > room) {
      log(
        `the server's open-files limit (ulimit -n) is ${serverFiles.limit}, ${ready.fds} in use before any ` +
          `stream, and it cannot be raised here (hard limit; raising it needs root with CAP_SYS_RESOURCE or ` +
          `/etc/security/limits.conf): measuring ${room} streams instead of ${connections}`,
      );
      connections = room;
    }
    // 600 a minute: batches a second apart release about 10 each (the first more: the slots missed
    // while the line filled up, up to a minute's worth).
    log(`joining ${connections} visitors to one queue`);
    const setup = await ask<Extract<SseServerReply, { kind: "setup" }>>(
      server.process,
      { kind: "setup", visitors: connections, ratePerMinute: 600 } satisfies SseServerRequest,
      300_000,
    );
    log(`joined in ${(setup.ms / 1000).toFixed(1)} s`);
    const before = await ask<Extract<SseServerReply, { kind: "memory" }>>(
      server.process,
      { kind: "memory" },
      60_000,
    );

    log(`opening ${connections} streams from ${clientCount} client process(es)`);
    const clients: Child[] = [];
    for (let i = 0; i < clientCount; i++) {
      const client = startIpcChild(
        `sse-clients-${i}`,
        ["--import", "tsx", "bench/sse-clients.ts"],
        PER_CLIENT + FD_SLACK,
      );
      children.push(client);
      clients.push(client);
    }
    const opened = Date.now();
    const connected = await Promise.all(
      clients.map((client, i) =>
        ask<Extract<SseClientsReply, { kind: "connected" }>>(
          client.process,
          {
            kind: "connect",
            port,
            visitors: setup.visitors.slice(i * PER_CLIENT, (i + 1) * PER_CLIENT),
            concurrency: 64,
          } satisfies SseClientsRequest,
          300_000,
        ),
      ),
    );
    const ok = connected.reduce((n, c) => n + c.ok, 0);
    const failed = connected.reduce((n, c) => n + c.failed, 0);
    const openMs = Date.now() - opened;
    log(
      `${ok} streams open in ${(openMs / 1000).toFixed(1)} s (${Math.round(ok / (openMs / 1000))}/s), ${failed} failed` +
        (failed > 0
          ? ` (first: ${connected.find((c) => c.firstError !== undefined)?.firstError ?? ""})`
          : ""),
    );
    await sleep(3_000); // a few periodic refreshes: the hub's steady state
    const held = await ask<Extract<SseServerReply, { kind: "stats" }>>(
      server.process,
      { kind: "stats" },
      30_000,
    );
    const after = await ask<Extract<SseServerReply, { kind: "memory" }>>(
      server.process,
      { kind: "memory" },
      60_000,
    );
    const heapGrowth = after.heapUsed + after.external - (before.heapUsed + before.external);
    const rssGrowth = after.rss - before.rss;
    const perConnection = Math.max(heapGrowth, rssGrowth) / Math.max(1, held.connected);

    log(`${requested.batches} release batches, one a second`);
    const batches: Extract<SseServerReply, { kind: "release" }>[] = [];
    for (let i = 0; i < requested.batches; i++) {
      const next = Date.now() + 1_000;
      batches.push(await ask(server.process, { kind: "release" } satisfies SseServerRequest, 30_000));
      await sleep(Math.max(0, next - Date.now()));
    }
    await sleep(2_000);
    const reports = await Promise.all(
      clients.map((client) =>
        ask<Extract<SseClientsReply, { kind: "report" }>>(client.process, { kind: "report" }, 30_000),
      ),
    );
    const arrivals = new Map<number, number>();
    for (const report of reports) for (const [seq, at] of report.released) arrivals.set(seq, at);
    const latencies: number[] = [];
    let missing = 0;
    let releasedCount = 0;
    for (const batch of batches) {
      for (const seq of batch.seqs) {
        releasedCount++;
        const at = arrivals.get(seq);
        if (at === undefined) missing++;
        else latencies.push(at - batch.startedAt);
      }
    }
    latencies.sort((a, b) => a - b);
    const batchMs = batches.map((b) => b.endedAt - b.startedAt).sort((a, b) => a - b);
    const events = reports.reduce((n, r) => n + r.events, 0);
    const bytes = reports.reduce((n, r) => n + r.bytes, 0);
    const stillOpen = reports.reduce((n, r) => n + r.open, 0);
    const p99 = percentile(latencies, 99);

    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`Anteroom SSE bench (embedded, ${availableParallelism()} cores, server and clients on loopback)`);
    out(
      `  ${connections} visitors in one queue; ${clientCount} client process(es) of raw sockets; ` +
        `server open-files limit ${serverFiles.limit} (${ready.fds} open before the streams); ` +
        `a deployment's cap at this limit: ${streamCapacity(Number(serverFiles.limit)) ?? "10000"} streams per process`,
    );
    out(
      `streams           ${held.connected} held at once by the server's hub (${ok} opened, ${failed} failed)`,
    );
    out(
      `memory            ${kib(perConnection)}/stream (heap+external growth ${kib(heapGrowth / Math.max(1, held.connected))}, ` +
        `RSS growth ${kib(rssGrowth / Math.max(1, held.connected))}; after GC, ${held.connected} streams)`,
    );
    out(
      `releases          ${releasedCount} visitors in ${batches.length} batches (each batch ${batchMs[0] ?? 0}-${batchMs.at(-1) ?? 0} ms ` +
        `in the worker), ${missing} released events missing`,
    );
    out(
      `release -> event  p50 ${percentile(latencies, 50)} ms  p99 ${p99} ms  max ${latencies.at(-1) ?? Number.NaN} ms ` +
        "(from the start of the batch to the event at the client)",
    );
    out(
      `traffic           ${events} status events, ${(bytes / 1024 / 1024).toFixed(1)} MiB received; ` +
        `${stillOpen} streams still open after the releases`,
    );
    out("targets");
    const checks = [
      {
        pass: held.connected >= requested.connections && failed === 0,
        text: `${requested.connections} streams held`,
      },
      { pass: perConnection <= TARGET_BYTES, text: `<= ${TARGET_BYTES / 1024} KiB per stream` },
      {
        pass: p99 < TARGET_P99_MS && missing === 0,
        text: `release -> event p99 < ${TARGET_P99_MS} ms, none missing`,
      },
    ];
    for (const check of checks) out(`  ${verdict(check.pass)}  ${check.text}`);
    out(
      JSON.stringify({
        sse_connections: held.connected,
        sse_bytes_per_connection: Math.round(perConnection),
        release_to_event_p99_ms: p99,
        release_to_event_p50_ms: percentile(latencies, 50),
        released: releasedCount,
        missing,
      }),
    );
    return failed > held.connected * 0.01 || missing > 0 ? 1 : 0;
  } catch (error) {
    for (const child of children) {
      const tail = child.tail();
      if (tail !== "") log(`${child.name}'s last output:\n${tail}`);
    }
    throw error;
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    dir.remove();
  }
}
