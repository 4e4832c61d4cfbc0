// The server side of `npm run bench -- --sse N`: an embedded Anteroom (SQLite in a temp dir, the in-process
// index, API and worker composed in this one process as `anteroom serve` does), listening on loopback, with
// the worker's loop NOT started: the bench asks for each release batch over IPC and is told when it began
// and whom it released. Run as
//   node --expose-gc --import tsx bench/sse-server.ts <dataDir>
// with an IPC channel. Messages in: {kind:"setup", visitors, ratePerMinute} | {kind:"memory"} |
// {kind:"release"} | {kind:"stats"}; each is answered with one message (see SseServerReply).
import { readdirSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { buildApp } from "../src/app.js";
import { systemClock } from "../src/domain/clock.js";
import { LocalChangeEvents } from "../src/domain/events.js";
import { NO_RATE_LIMITS } from "../src/domain/rate-limit.js";
import { deriveKeys } from "../src/domain/secrets.js";
import { MemoryQueueIndex } from "../src/index/memory/memory-index.js";
import { ensureUser } from "../src/services/users.js";
import type { Shared } from "../src/start/adapters.js";
import { composeApi } from "../src/start/compose-api.js";
import { composeWorker } from "../src/start/compose-worker.js";
import { openProcessParts } from "../src/start/process.js";
import { openSqliteStore } from "../src/store/sqlite.js";

export type SseServerRequest =
  | { kind: "setup"; visitors: number; ratePerMinute: number }
  | { kind: "memory" }
  | { kind: "release" }
  | { kind: "stats" };

export type SseServerReply =
  | { kind: "ready"; port: number; fds: number }
  | { kind: "setup"; visitors: { token: string; seq: number }[]; ms: number }
  | { kind: "memory"; heapUsed: number; external: number; rss: number }
  | { kind: "release"; startedAt: number; endedAt: number; seqs: number[] }
  | { kind: "stats"; connected: number; queues: number }
  | { kind: "error"; message: string };

const gc = globalThis.gc;
if (gc === undefined || process.send === undefined) {
  process.stderr.write("sse-server.ts needs node --expose-gc and an IPC channel\n");
  process.exit(2);
}
const collect: () => void = gc;
const send = (reply: SseServerReply): void => {
  process.send?.(reply);
};

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error("usage: sse-server.ts <dataDir>");

const logger = pino({ level: "warn" });
const clock = systemClock;
const keys = deriveKeys("bench-secret-key-that-is-long-enough-0123456789");
const store = openSqliteStore(path.join(dataDir, "anteroom.db"));
await store.migrate();
const index = new MemoryQueueIndex();
const events = new LocalChangeEvents();
const shared: Shared = {
  index,
  events: { publish: events, local: events },
  tryLock: undefined,
  loginAttempts: undefined,
  rateCounts: undefined,
  readiness: [],
  close: () => index.close(),
};
const base = { store, clock, keys, logger, shared };
const parts = await openProcessParts({ ...base, issuer: "anteroom-bench", runsWorker: true });
const worker = composeWorker({
  ...base,
  parts,
  settings: { allowPrivateCallbacks: true, callbackLeaseMs: 60_000 },
});
const api = composeApi({
  ...base,
  parts,
  // The bench measures what one process can hold, up to the open-files limit itself; a deployment keeps
  // 1,024 of its files back for everything else (start/open-files.ts), which the bench prints.
  liveUpdates: { maxStreams: Number.MAX_SAFE_INTEGER },
  settings: {
    adminTokenTtlSeconds: 3600,
    allowPrivateCallbacks: true,
    // The visitors come through a proxy on loopback, each from an address of its own (X-Forwarded-For), as
    // many do; the request-rate limits are off, since setting up 20,000 visitors is not what is measured.
    rateLimits: NO_RATE_LIMITS,
    trustProxy: "127.0.0.1",
    version: "bench",
    metricsEndpoint: { serve: false },
  },
});
const app = await buildApp({ ...api.app, logger: undefined });
// Connections arrive in waves of thousands: a deep accept backlog (the kernel caps it at somaxconn).
await app.listen({ port: 0, host: "127.0.0.1", backlog: 4096 });
const address = app.server.address();
const port = typeof address === "object" && address !== null ? address.port : 0;

let queueId = "";

async function inject<T>(method: "GET" | "POST", url: string, payload: object, headers = {}): Promise<T> {
  const response = await app.inject({ method, url, payload, headers });
  if (response.statusCode >= 300)
    throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json<T>();
}

async function setup(visitors: number, ratePerMinute: number): Promise<SseServerReply> {
  const started = Date.now();
  await ensureUser(
    { store, clock },
    { email: "bench@example.com", password: "bench-password-1234", role: "admin" },
  );
  const login = await app.inject({
    method: "POST",
    url: "/auth/token",
    payload: { grant_type: "password", username: "bench@example.com", password: "bench-password-1234" },
  });
  const authorization = `Bearer ${login.json<{ access_token: string }>().access_token}`;
  const application = await inject<{ id: string; api_key: string }>(
    "POST",
    "/applications/",
    { name: "bench", domain: "bench.example.com", callback_url: "http://127.0.0.1:9/cb" },
    { authorization },
  );
  const queue = await inject<{ id: string }>(
    "POST",
    "/queues/",
    {
      application_id: application.id,
      name: "sse",
      max_users_per_minute: ratePerMinute,
      abandon_after_seconds: 600,
    },
    { authorization },
  );
  queueId = queue.id;
  await parts.queues.refresh();
  const joined: { token: string; seq: number }[] = [];
  const BATCH = 500;
  for (let start = 0; start < visitors; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, visitors - start) }, (_, i) =>
      inject<{ token: string }>(
        "POST",
        "/join",
        { queue_id: queueId, visitor_id: `sse-${start + i}` },
        { "x-api-key": application.api_key },
      ),
    );
    for (const { token } of await Promise.all(batch)) {
      joined.push({ token, seq: api.app.visitors.verifyToken(token).seq });
    }
  }
  return { kind: "setup", visitors: joined, ms: Date.now() - started };
}

function memory(): SseServerReply {
  for (let i = 0; i < 4; i++) collect();
  const usage = process.memoryUsage();
  return { kind: "memory", heapUsed: usage.heapUsed, external: usage.external, rss: usage.rss };
}

/** One release round of the worker; the released seqs are those that were waiting and no longer are. */
async function release(): Promise<SseServerReply> {
  const front = await index.waitingPage(queueId, 0, 10_000);
  const startedAt = Date.now();
  await worker.releaser.releaseDue();
  const endedAt = Date.now();
  const still = new Set(await index.waitingPage(queueId, 0, 10_000));
  return { kind: "release", startedAt, endedAt, seqs: front.filter((seq) => !still.has(seq)) };
}

process.on("message", (message: SseServerRequest) => {
  const answer = async (): Promise<SseServerReply> => {
    switch (message.kind) {
      case "setup":
        return setup(message.visitors, message.ratePerMinute);
      case "memory":
        return memory();
      case "release":
        return release();
      case "stats":
        return {
          kind: "stats",
          connected: api.app.queueEvents?.size ?? 0,
          queues: api.app.queueEvents?.queueCount ?? 0,
        };
    }
  };
  answer().then(send, (error: unknown) =>
    send({ kind: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

process.on("SIGTERM", () => {
  void (async () => {
    await app.close();
    api.close();
    await worker.close();
    parts.close();
    await shared.close();
    await store.close();
    process.exit(0);
  })();
});

/** File descriptors open now (Linux): what the streams' sockets come on top of. */
function openFds(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return 64;
  }
}

send({ kind: "ready", port, fds: openFds() });
