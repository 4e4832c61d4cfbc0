import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, afterEach, describe } from "vitest";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import type { QueueIndex, QueueIndexOptions } from "../../src/index/types.js";
import { redisForTests } from "../helpers/redis.js";

/**
 * What the QueueIndex conformance files share: the adapters (the embedded one is the reference, the Redis
 * one must answer the same) and a suite wrapper that runs a file's tests against each. Each test works in
 * queues of its own (random ids), reset afterwards; nothing is flushed.
 */
export const redisAt = await redisForTests();

export const T0 = 1_700_000_000_000;
export const SECOND = 1000;
export const TOKEN = `eyJhbGciOiJFZERTQSJ9.${"x".repeat(380)}.sig-_`;

export function connection(): Redis {
  if (redisAt === undefined) throw new Error("no Redis");
  return redisAt.redis;
}

const adapters: { name: string; make: (options?: QueueIndexOptions) => QueueIndex }[] = [
  { name: "memory", make: (options) => new MemoryQueueIndex(options) },
  ...(redisAt === undefined
    ? []
    : [{ name: "redis", make: (options?: QueueIndexOptions) => new RedisQueueIndex(connection(), options) }]),
];

export interface Conformance {
  /** The adapter under test, shared by the file's tests. */
  index: QueueIndex;
  /** Another instance of the same adapter, with its own options. */
  make: (options?: QueueIndexOptions) => QueueIndex;
  /** A fresh queue in normal operation: built, so the Redis index answers without "rebuilding". */
  queue: () => Promise<string>;
  /** The ticket's rank if it is waiting, else its state. */
  rank: (q: string, seq: number, now?: number) => Promise<number | string>;
}

/** Runs `tests` once per adapter, as "QueueIndex conformance: <adapter>". */
export function describeEachAdapter(tests: (t: Conformance) => void): void {
  afterAll(() => redisAt?.redis.disconnect());

  describe.each(adapters)("QueueIndex conformance: $name", ({ make }) => {
    const index = make();
    const used: string[] = [];

    async function queue(): Promise<string> {
      const id = randomUUID();
      used.push(id);
      await index.markLoaded(id);
      return id;
    }

    // reset, not drop: in Redis, drop leaves the queue's loaded marker behind.
    afterEach(async () => {
      for (const id of used.splice(0)) await index.reset(id);
    });

    afterAll(() => index.close());

    async function rank(q: string, seq: number, now = T0): Promise<number | string> {
      const ticket = await index.poll(q, seq, now);
      return ticket.state === "waiting" ? ticket.rank : ticket.state;
    }

    tests({ index, make, queue, rank });
  });
}
