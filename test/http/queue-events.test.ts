import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.js";
import { NO_RATE_LIMITS } from "../../src/domain/rate-limit.js";
import type { VisitorStatus } from "../../src/domain/visitor-status.js";
import { MAX_STREAMS_PER_ADDRESS, MAX_STREAMS_PER_PLACE } from "../../src/http/routes/events.js";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";
import { RedisQueueActivity } from "../../src/index/redis/activity.js";
import { RedisQueueIndex } from "../../src/index/redis/redis-index.js";
import type { IndexedTicket, QueueIndex } from "../../src/index/types.js";
import type { QueueEventsOptions } from "../../src/services/queue-events.js";
import type { Shared } from "../../src/start/adapters.js";
import { composeApi } from "../../src/start/compose-api.js";
import { composeWorker } from "../../src/start/compose-worker.js";
import { openProcessParts } from "../../src/start/process.js";
import {
  createSite,
  currentAdapter,
  type Harness,
  type JoinBody,
  join,
  startHarness,
  status,
} from "../helpers/harness.js";
import { redisForTests } from "../helpers/redis.js";

/** GET /queue_events over a real socket: an SSE client reading the stream as a browser would. */

interface SseEvent {
  id: number | undefined;
  event: string | undefined;
  data: string | undefined;
  retry: number | undefined;
  comment: string | undefined;
  at: number;
}

interface SseClient {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far, blocks in order (comments and retry-only blocks included). */
  blocks: SseEvent[];
  /** The next block after those already taken, within `ms`. */
  next(ms?: number): Promise<SseEvent>;
  /** The next status event (skipping comments), parsed. */
  nextStatus(ms?: number): Promise<{ id: number; status: VisitorStatus; retry: number | undefined }>;
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

function parseBlock(text: string): SseEvent {
  const block: SseEvent = {
    id: undefined,
    event: undefined,
    data: undefined,
    retry: undefined,
    comment: undefined,
    at: Date.now(),
  };
  for (const line of text.split("\n")) {
    if (line.startsWith(":")) block.comment = line.slice(1).trim();
    const colon = line.indexOf(": ");
    if (colon < 0) continue;
    const [field, value] = [line.slice(0, colon), line.slice(colon + 2)];
    if (field === "id") block.id = Number(value);
    else if (field === "event") block.event = value;
    else if (field === "data") block.data = value;
    else if (field === "retry") block.retry = Number(value);
  }
  return block;
}

function connectSse(base: string, token: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/queue_events?token=${encodeURIComponent(token)}`, {
      headers: { accept: "text/event-stream", ...headers },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const blocks: SseEvent[] = [];
      let taken = 0;
      let buffer = "";
      let closed = false;
      let wake: (() => void) | undefined;
      const closedPromise = new Promise<void>((done) => {
        res.on("close", () => {
          closed = true;
          wake?.();
          done();
        });
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          blocks.push(parseBlock(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        wake?.();
      });
      const next = async (ms = 3000): Promise<SseEvent> => {
        const deadline = Date.now() + ms;
        while (taken >= blocks.length) {
          if (closed) throw new Error("stream closed");
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no event within ${ms} ms`);
          await new Promise<void>((done) => {
            const timer = setTimeout(done, left);
            wake = () => {
              clearTimeout(timer);
              done();
            };
          });
          wake = undefined;
        }
        const block = blocks[taken++];
        if (block === undefined) throw new Error("no block");
        return block;
      };
      const client: SseClient = {
        statusCode: res.statusCode ?? 0,
        headers: res.headers,
        blocks,
        next,
        async nextStatus(ms = 3000) {
          const deadline = Date.now() + ms;
          for (;;) {
            const block = await next(Math.max(1, deadline - Date.now()));
            if (block.event === "status" && block.data !== undefined && block.id !== undefined) {
              return { id: block.id, status: JSON.parse(block.data) as VisitorStatus, retry: block.retry };
            }
          }
        },
        closed: closedPromise,
        isClosed: () => closed,
        close: () => req.destroy(),
      };
      resolve(client);
    });
    req.end();
  });
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The real index, with its bulk and single polls counted (no mock: every call goes through). */
class CountingIndex {
  ranks = new Map<string, number>();
  polls = 0;

  constructor(readonly inner: QueueIndex) {}

  wrap(): QueueIndex {
    const inner = this.inner;
    return new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property === "ranks") {
          return (queueId: string, seqs: readonly number[], now: number): Promise<IndexedTicket[]> => {
            this.ranks.set(queueId, (this.ranks.get(queueId) ?? 0) + 1);
            return target.ranks(queueId, seqs, now);
          };
        }
        if (property === "poll" || property === "pollNow") {
          this.polls++;
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  reset(): void {
    this.ranks.clear();
    this.polls = 0;
  }
}

const FAST: QueueEventsOptions = { keepaliveMs: 60_000, coalesceMs: 1_000, refreshMs: 60_000, minGapMs: 20 };

describe("GET /queue_events", () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await startHarness({ liveUpdates: FAST });
    base = await listen(h.app);
  });
  afterAll(() => h.close());

  it("opens with retry, an id and the current status, the body /queue_status answers", async () => {
    const site = await createSite(h);
    await join(h, site.apiKey, site.queueId, "a");
    const visitor = await join(h, site.apiKey, site.queueId, "b");
    const sse = await connectSse(base, visitor.token);
    expect(sse.statusCode).toBe(200);
    expect(sse.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(sse.headers["cache-control"]).toBe("no-store");
    expect(sse.headers["x-accel-buffering"]).toBe("no");
    expect(sse.headers["access-control-allow-origin"]).toBe("*");
    expect(sse.headers["x-request-id"]).toEqual(expect.any(String));
    const first = await sse.nextStatus();
    expect(first.retry).toBe(3000);
    expect(first.id).toBeGreaterThan(0);
    const { token: _token, ...polled } = await status(h, visitor.token);
    expect(first.status).toEqual(polled);
    expect(first.status).toMatchObject({ status: "waiting", position: 2 });
    sse.close();
  });

  it("sends the release within a second of the release batch, then closes the stream", async () => {
    const site = await createSite(h, { max_users_per_minute: 60 });
    const visitor = await join(h, site.apiKey, site.queueId, "first");
    const sse = await connectSse(base, visitor.token);
    expect((await sse.nextStatus()).status.status).toBe("waiting");
    const releasedAt = Date.now();
    await h.room.engine.releaseDue();
    const event = await sse.nextStatus(1000);
    expect(Date.now() - releasedAt).toBeLessThan(1000);
    expect(event.status).toMatchObject({ status: "released", position: null, poll_after_seconds: null });
    expect(event.status.redirect_url).toBe(
      `https://shop.example.com/?anteroom_token=${event.status.access_token ?? ""}`,
    );
    await sse.closed;
    expect(sse.isClosed()).toBe(true);
    // Sent to the visitor counts as seen, as a poll would: the admission is recorded.
    const { seq } = h.room.visitors.verifyToken(visitor.token);
    await expect
      .poll(async () => (await h.store.tickets.findBySeq(site.queueId, seq))?.admitted_at ?? null)
      .not.toBeNull();
  });

  it("ends at once, after one event, for a visitor no longer waiting", async () => {
    const site = await createSite(h);
    const visitor = await join(h, site.apiKey, site.queueId, "gone");
    await h.app.inject({ method: "POST", url: "/cancel", payload: { token: visitor.token } });
    const sse = await connectSse(base, visitor.token);
    expect((await sse.nextStatus()).status.status).toBe("cancelled");
    await sse.closed;
  });

  it("coalesces place changes to at most one event per window, with the latest place", async () => {
    const site = await createSite(h);
    const ahead: JoinBody[] = [];
    for (let i = 0; i < 4; i++) ahead.push(await join(h, site.apiKey, site.queueId, `ahead-${i}`));
    const visitor = await join(h, site.apiKey, site.queueId, "me");
    const sse = await connectSse(base, visitor.token);
    const first = await sse.nextStatus();
    expect(first.status.position).toBe(5);
    // Three visitors ahead leave within the window: one event, with the place after all three.
    for (const gone of ahead.slice(0, 3)) {
      await h.app.inject({ method: "POST", url: "/cancel", payload: { token: gone.token } });
      await sleep(50);
    }
    const second = await sse.nextStatus(2500);
    expect(second.status).toMatchObject({ status: "waiting", position: 2, users_ahead: 1 });
    expect(sse.blocks.filter((b) => b.event === "status")).toHaveLength(2);
    expect(second.id).toBeGreaterThan(first.id);
    // Not before the window from the first event had passed.
    const blocks = sse.blocks.filter((b) => b.event === "status");
    expect((blocks[1]?.at ?? 0) - (blocks[0]?.at ?? 0)).toBeGreaterThanOrEqual((FAST.coalesceMs ?? 0) - 50);
    // Nothing changes: nothing more is sent.
    await sleep(300);
    expect(sse.blocks.filter((b) => b.event === "status")).toHaveLength(2);
    sse.close();
  });

  it("continues the ids above Last-Event-ID, and sends the current status at once on a reconnect", async () => {
    const site = await createSite(h);
    const visitor = await join(h, site.apiKey, site.queueId, "again");
    const sse = await connectSse(base, visitor.token);
    const first = await sse.nextStatus();
    sse.close();
    const lastId = first.id + 1_000_000;
    const again = await connectSse(base, visitor.token, { "last-event-id": String(lastId) });
    const resumed = await again.nextStatus(500);
    expect(resumed.id).toBeGreaterThan(lastId);
    expect(resumed.status).toEqual(first.status);
    again.close();
    // A Last-Event-ID not ours is ignored; ids still increase.
    const third = await connectSse(base, visitor.token, { "last-event-id": "not-a-number" });
    expect((await third.nextStatus(500)).id).toBeGreaterThan(first.id);
    third.close();
  });

  it("answers a bad or missing token with the 401 /queue_status gives, not a stream", async () => {
    for (const query of ["?token=nope", "", "?token="]) {
      const events = await fetch(`${base}/queue_events${query}`);
      const polled = await fetch(`${base}/queue_status${query}`);
      expect(events.status).toBe(401);
      expect(events.headers.get("content-type")).toMatch(/^application\/json/);
      expect(events.headers.get("access-control-allow-origin")).toBe("*");
      const body = (await events.json()) as { error: { code: string } };
      expect(body.error.code).toBe("invalid_token");
      expect(((await polled.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    }
  });

  it("holds at most 8 streams for one place and 200 for one address; past either a 429, and polling goes on", async () => {
    const site = await createSite(h);
    const tokens: string[] = [];
    for (let i = 0; i < 25; i++) tokens.push((await join(h, site.apiKey, site.queueId, `tabs-${i}`)).token);
    const [first = "", second = ""] = tokens;
    const open: SseClient[] = [];
    try {
      for (let i = 0; i < MAX_STREAMS_PER_PLACE; i++) open.push(await connectSse(base, first));
      expect(open.every((sse) => sse.statusCode === 200)).toBe(true);
      const ninth = await fetch(`${base}/queue_events?token=${encodeURIComponent(first)}`);
      expect(ninth.status).toBe(429);
      expect(ninth.headers.get("retry-after")).toBe("30");
      expect(((await ninth.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
      expect((await fetch(`${base}/queue_status?token=${encodeURIComponent(first)}`)).status).toBe(200);
      // A closed tab frees its slot.
      const closing = open.shift();
      closing?.close();
      await closing?.closed;
      await vi.waitFor(async () => {
        const again = await connectSse(base, first);
        open.push(again);
        expect(again.statusCode).toBe(200);
      });
      // One address: 25 places × 8 tabs = 200 streams, then no more, whichever place asks.
      for (const token of tokens.slice(1)) {
        for (let i = 0; i < MAX_STREAMS_PER_PLACE; i++) open.push(await connectSse(base, token));
      }
      expect(open.filter((sse) => sse.statusCode === 200)).toHaveLength(MAX_STREAMS_PER_ADDRESS);
      const extra = await fetch(`${base}/queue_events?token=${encodeURIComponent(second)}`);
      expect(extra.status).toBe(429);
    } finally {
      for (const sse of open) sse.close();
    }
  });

  it("answers the CORS preflight like the other visitor routes", async () => {
    const response = await fetch(`${base}/queue_events`, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example.com", "access-control-request-method": "GET" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("keeps connected visitors alive: they are not expired as abandoned, a silent one is", async () => {
    const site = await createSite(h, { abandon_after_seconds: 30 });
    const silent = await join(h, site.apiKey, site.queueId, "silent");
    const connected = await join(h, site.apiKey, site.queueId, "connected");
    const sse = await connectSse(base, connected.token);
    await sse.nextStatus();
    h.clock.advance(40_000);
    // Any activity in the queue refreshes it (and so does the periodic refresh): a join will do.
    await join(h, site.apiKey, site.queueId, "newcomer");
    await sleep(200);
    await h.room.engine.expire();
    expect((await status(h, silent.token)).status).toBe("expired");
    expect((await status(h, connected.token)).status).toBe("waiting");
    const moved = await sse.nextStatus(2500);
    expect(moved.status).toMatchObject({ status: "waiting", position: 1 });
    sse.close();
  });
});

describe("GET /queue_events: the process's cap", () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await startHarness({ liveUpdates: { ...FAST, maxStreams: 3 } });
    base = await listen(h.app);
  });
  afterAll(() => h.close());

  it("holds at most maxStreams streams in all, from any addresses; past it a 429, and a closed stream frees its slot", async () => {
    const site = await createSite(h);
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) tokens.push((await join(h, site.apiKey, site.queueId, `cap-${i}`)).token);
    const open: SseClient[] = [];
    try {
      for (const [i, token] of tokens.slice(0, 3).entries()) {
        open.push(await connectSse(base, token, { "x-forwarded-for": `203.0.113.${i + 1}` }));
      }
      expect(open.map((sse) => sse.statusCode)).toEqual([200, 200, 200]);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^anteroom_live_update_streams 3$/m);
      const refused = await fetch(`${base}/queue_events?token=${encodeURIComponent(tokens[3] ?? "")}`);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
      const first = open.shift();
      first?.close();
      await first?.closed;
      await vi.waitFor(async () => {
        const again = await connectSse(base, tokens[3] ?? "");
        open.push(again);
        expect(again.statusCode).toBe(200);
      });
    } finally {
      for (const sse of open) sse.close();
    }
  });
});

describe("GET /queue_events: cost, keepalive and shutdown", () => {
  let h: Harness;
  let base: string;
  let counting: CountingIndex;
  let redis: Redis | undefined;
  const prefix = `aqt-sse-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    let inner: QueueIndex = new MemoryQueueIndex();
    if (currentAdapter() === "production") {
      const at = await redisForTests();
      if (at === undefined) throw new Error("no Redis");
      redis = new Redis(at.url);
      inner = new RedisQueueIndex(redis, { prefix });
    }
    counting = new CountingIndex(inner);
    h = await startHarness({
      liveUpdates: { ...FAST, keepaliveMs: 200 },
      room: { index: counting.wrap() },
    });
    base = await listen(h.app);
  });
  afterAll(async () => {
    await h.close();
    if (redis !== undefined) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it("asks the index once per queue per change, however many visitors are connected", async () => {
    const one = await createSite(h, { max_users_per_minute: 60 });
    const two = await createSite(h, { max_users_per_minute: 60 });
    const streams: SseClient[] = [];
    const visitors: JoinBody[] = [];
    for (let i = 0; i < 12; i++) {
      const site = i % 3 === 2 ? two : one;
      const visitor = await join(h, site.apiKey, site.queueId, `v-${i}`);
      visitors.push(visitor);
      const sse = await connectSse(base, visitor.token);
      await sse.nextStatus();
      streams.push(sse);
    }
    await sleep(100); // the joins' own refreshes
    counting.reset();
    await h.room.engine.releaseDue(); // one release batch in each queue
    const released = await streams[0]?.nextStatus(1000);
    expect(released?.status.status).toBe("released");
    await streams[2]?.nextStatus(1000); // the first of queue two
    await sleep(150);
    expect(Object.fromEntries(counting.ranks)).toEqual({ [one.queueId]: 1, [two.queueId]: 1 });
    expect(counting.polls).toBe(0);
    for (const sse of streams) sse.close();
  });

  it("sends a keepalive comment on a quiet stream", async () => {
    const site = await createSite(h);
    const visitor = await join(h, site.apiKey, site.queueId, "quiet");
    const sse = await connectSse(base, visitor.token);
    await sse.nextStatus();
    const block = await sse.next(1000);
    expect(block.comment).toBe("keepalive");
    sse.close();
  });

  it("on shutdown, ends every stream with a short reconnect hint", async () => {
    const site = await createSite(h);
    const visitor = await join(h, site.apiKey, site.queueId, "shutdown");
    const sse = await connectSse(base, visitor.token);
    await sse.nextStatus();
    const started = Date.now();
    await h.app.close();
    await sse.closed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sse.blocks.some((b) => b.retry === 1000)).toBe(true);
  });
});

describe.runIf(currentAdapter() === "production")("GET /queue_events across processes", () => {
  let h: Harness;
  const connections: Redis[] = [];
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    for (const redis of connections) redis.disconnect();
    await h.close();
  });

  /** A process's shared state over the harness's record and Redis index, with queue activity on Redis. */
  async function processShared(channel: string): Promise<Shared> {
    const at = await redisForTests();
    if (at === undefined) throw new Error("no Redis");
    const publisher = new Redis(at.url);
    const subscriber = new Redis(at.url);
    connections.push(publisher, subscriber);
    // As connectRedis does: ready before anything subscribes (a SUBSCRIBE during the ready check breaks it).
    await Promise.all([once(publisher, "ready"), once(subscriber, "ready")]);
    const logger = pino({ level: "silent" });
    return {
      index: h.room.index,
      events: { publish: h.room.events, local: h.room.events },
      activity: new RedisQueueActivity(publisher, subscriber, logger, channel),
      tryLock: undefined,
      loginAttempts: undefined,
      rateCounts: undefined,
      readiness: [],
      close: async () => {},
    };
  }

  it("an API process's stream gets the release a separate worker process published", async () => {
    const channel = `anteroom:activity:test-${randomUUID()}`;
    const logger = pino({ level: "silent" });
    const base = { store: h.store, clock: h.clock, keys: h.keys, logger };

    // The API process: no worker, its hub hears the worker through Redis.
    const apiShared = await processShared(channel);
    const apiParts = await openProcessParts({
      ...base,
      shared: apiShared,
      issuer: "anteroom-test",
      runsWorker: false,
    });
    const api = composeApi({
      ...base,
      shared: apiShared,
      parts: apiParts,
      settings: {
        adminTokenTtlSeconds: 3600,
        allowPrivateCallbacks: true,
        rateLimits: NO_RATE_LIMITS,
        trustProxy: false,
        version: "test",
        metricsEndpoint: { serve: false },
      },
      liveUpdates: { ...FAST, refreshMs: 60_000 },
    });
    const app = await buildApp({ ...api.app, logger: undefined });
    closers.push(async () => {
      await app.close();
      api.close();
      apiParts.close();
    });
    const apiBase = await listen(app);

    // The worker process.
    const workerShared = await processShared(channel);
    const workerParts = await openProcessParts({
      ...base,
      shared: workerShared,
      issuer: "anteroom-test",
      runsWorker: true,
    });
    const worker = composeWorker({
      ...base,
      shared: workerShared,
      parts: workerParts,
      settings: { allowPrivateCallbacks: true, callbackLeaseMs: 60_000 },
    });
    closers.push(async () => {
      await worker.close();
      workerParts.close();
    });

    const site = await createSite(h, { max_users_per_minute: 60 });
    await workerParts.queues.refresh();
    const visitor = await join(h, site.apiKey, site.queueId, "remote");
    const sse = await connectSse(apiBase, visitor.token);
    expect((await sse.nextStatus()).status.status).toBe("waiting");
    await sleep(100); // the subscription reaches Redis
    const releasedAt = Date.now();
    await worker.releaser.releaseDue();
    const event = await sse.nextStatus(1000);
    expect(event.status.status).toBe("released");
    expect(Date.now() - releasedAt).toBeLessThan(1000);
    await sse.closed;
  });
});
