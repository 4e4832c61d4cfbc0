// Production mode for the bench: a database of its own on the PostgreSQL server (DB_URL, or the local one
// on 5432), a private redis-server on a free port, `anteroom migrate`, two API processes and one worker.
// Everything it creates is removed when the target stops.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { RedisQueueIndex } from "../src/index/redis/redis-index.js";
import type { MemoryFigures } from "./memory-probe.js";
import { awaitExit, type Child, freePort, HOST, startChild, waitReady } from "./processes.js";

const DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres";

export interface ProductionServices {
  dbUrl: string;
  redisUrl: string;
  redis: Child;
  dropDatabase(): Promise<void>;
}

async function runSql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function startServices(add: (child: Child) => Child): Promise<ProductionServices> {
  const server = process.env.DB_URL?.startsWith("postgres") ? process.env.DB_URL : DEFAULT_SERVER;
  const name = `anteroom_bench_${randomBytes(6).toString("hex")}`;
  await runSql(server, `create database ${name}`);
  const dbUrl = new URL(server);
  dbUrl.pathname = `/${name}`;
  const port = await freePort();
  const redis = add(
    startChild(
      "redis-server",
      ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
      { PATH: process.env.PATH ?? "" },
      "redis-server",
    ),
  );
  const redisUrl = `redis://${HOST}:${port}`;
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  for (let i = 0; i < 100; i++) {
    if (
      await probe.connect().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  probe.disconnect();
  return {
    dbUrl: dbUrl.toString(),
    redisUrl,
    redis,
    dropDatabase: () => runSql(server, `drop database if exists ${name} with (force)`),
  };
}

export async function migrate(env: Record<string, string>): Promise<void> {
  const child = startChild("anteroom migrate", ["bin/anteroom.js", "migrate"], env);
  const how = await awaitExit(child, 60_000);
  if (how !== "exit code 0") throw new Error(`anteroom migrate failed (${how}):\n${child.tail()}`);
}

export async function startWorker(
  add: (child: Child) => Child,
  nodeArgs: readonly string[],
  env: Record<string, string>,
): Promise<void> {
  const port = await freePort();
  const child = add(
    startChild("anteroom worker", [...nodeArgs, "bin/anteroom.js", "worker"], {
      ...env,
      WORKER_PORT: String(port),
    }),
  );
  await waitReady(child, `http://${HOST}:${port}/healthz`, 60_000);
}

/**
 * Memory of the shared index per waiting visitor: `used_memory` of the bench's private Redis before and
 * after one scratch queue takes `visitors` waiting visitors (its waiting set and heartbeats).
 */
export async function measureRedisMemory(redisUrl: string, visitors: number): Promise<MemoryFigures> {
  const redis = new Redis(redisUrl);
  try {
    const index = new RedisQueueIndex(redis, { prefix: "bench-memory" });
    const queueId = "00000000-0000-4000-8000-00000000beef";
    const used = async () => {
      const info = await redis.info("memory");
      return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    };
    await index.addWaiting(queueId, [], Date.now());
    const before = await used();
    const now = Date.now();
    for (let start = 1; start <= visitors; start += 5_000) {
      const seqs: number[] = [];
      for (let seq = start; seq < start + 5_000 && seq <= visitors; seq++) seqs.push(seq);
      await index.addWaiting(queueId, seqs, now);
    }
    const after = await used();
    await index.drop(queueId);
    const perVisitor = (after - before) / visitors;
    return { visitors, index_bytes_per_visitor: perVisitor, heap_bytes_per_visitor: perVisitor };
  } finally {
    redis.disconnect();
  }
}
