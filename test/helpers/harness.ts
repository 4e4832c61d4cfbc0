import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { inject } from "vitest";
import { type AppDeps, buildApp } from "../../src/app.js";
import { ManualClock } from "../../src/domain/clock.js";
import { LocalChangeEvents } from "../../src/domain/events.js";
import type { LoginThrottle } from "../../src/domain/login-throttle.js";
import {
  DEFAULT_RATE_LIMITS,
  NO_RATE_LIMITS,
  type RateLimitSettings,
  type RateLimits,
} from "../../src/domain/rate-limit.js";
import type { SharedCounts } from "../../src/domain/rate-limiter.js";
import { type DerivedKeys, deriveKeys } from "../../src/domain/secrets.js";
import { MemoryQueueIndex } from "../../src/index/memory/memory-index.js";
import type { QueueIndex } from "../../src/index/types.js";
import type { Metrics } from "../../src/observability/metrics.js";
import type { ActiveQueues } from "../../src/services/active-queues.js";
import type { AdmissionKeys } from "../../src/services/admission-keys.js";
import type { QueueEventsOptions } from "../../src/services/queue-events.js";
import { ensureUser } from "../../src/services/users.js";
import type { VisitorService } from "../../src/services/visitors.js";
import type { Shared } from "../../src/start/adapters.js";
import { composeApi } from "../../src/start/compose-api.js";
import { composeWorker, type WorkerDeps, type WorkerSettings } from "../../src/start/compose-worker.js";
import { openProcessParts } from "../../src/start/process.js";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import type { Role } from "../../src/store/types.js";
import type { AnalyticsRollup } from "../../src/worker/analytics/rollup.js";
import type { CallbackDispatcher } from "../../src/worker/callbacks/dispatcher.js";
import type { WorkerLoop } from "../../src/worker/loop.js";
import type { Expiry } from "../../src/worker/release/expiry.js";
import type { Releaser } from "../../src/worker/release/releaser.js";
import { embeddedBackend, productionBackend } from "./backends.js";

/**
 * Which adapters a test file runs against: the vitest project decides (see vitest.config.ts), so the same
 * behaviour tests run once on SQLite + the in-process index and once on PostgreSQL + Redis.
 */
export type Adapter = "embedded" | "production";

declare module "vitest" {
  export interface ProvidedContext {
    adapter: Adapter;
  }
}

export function currentAdapter(): Adapter {
  try {
    return inject("adapter") ?? "embedded";
  } catch {
    return "embedded";
  }
}

export const PASSWORD = "correct horse battery staple";

/**
 * The worker's tasks as tests run them, one round per call (the loop is not started): release, expiry,
 * and reloading the live queues.
 */
export interface WorkerRounds {
  releaseDue(): Promise<number | undefined>;
  expire(): Promise<void>;
  refresh(): Promise<void>;
}

/**
 * The waiting room of one harness: both composition roots in one process, as embedded `serve` runs them,
 * with the worker's loop not started. `engine` runs the worker's rounds by hand.
 */
export interface TestRoom {
  index: QueueIndex;
  visitors: VisitorService;
  admission: AdmissionKeys;
  metrics: Metrics;
  /** Where the admin API publishes changes (and this process hears them). */
  events: LocalChangeEvents;
  queues: ActiveQueues;
  releaser: Releaser;
  expiry: Expiry;
  dispatcher: CallbackDispatcher;
  /** The worker's analytics rollup and ticket pruning (run by hand, like the rest). */
  analytics: AnalyticsRollup;
  loop: WorkerLoop;
  engine: WorkerRounds;
  close(): Promise<void>;
}

/**
 * One embedded service per test file: a real SQLite file in a temp dir, a manual clock, `app.inject`.
 * The worker loop is not started: tests drive the rounds (`room.engine`, `room.dispatcher.dispatchDue`).
 */
export interface Harness {
  app: FastifyInstance;
  store: KyselyStore;
  clock: ManualClock;
  keys: DerivedKeys;
  dir: string;
  room: TestRoom;
  /** The app's rate limits (off unless the harness was given `rateLimits`). */
  rateLimits: RateLimits;
  /** Creates (once) a user with this email and role, and returns a bearer header for them. */
  login(email: string, role?: Role): Promise<{ authorization: string }>;
  userId(email: string): Promise<string>;
  /**
   * Stops everything and starts again over the same database file (a process restart), optionally with
   * another SECRET_KEY (and SECRET_KEY_PREVIOUS), as a key rotation does.
   */
  restart(secrets?: { secretKey: string; previousSecretKey?: string }): Promise<void>;
  close(): Promise<void>;
}

/** The worker's parts a test may replace or tune. */
export type RoomOptions = Partial<Pick<WorkerDeps, "sender" | "retry" | "random" | "intervals">> &
  Partial<Pick<WorkerSettings, "callbackTimeoutMs" | "callbackConcurrency">> & {
    /** A hot index of the test's own (say, with a small ended cap). */
    index?: QueueIndex;
    callbackLeaseMs?: number;
  };

export interface HarnessOptions {
  throttle?: LoginThrottle;
  metrics?: AppDeps["metricsEndpoint"];
  allowPrivateCallbacks?: boolean;
  room?: RoomOptions;
  /**
   * Rate limits over the defaults; without it the app limits nothing (tests that load it are not about
   * limits). In the production project their counts are shared through the harness's Redis prefix.
   */
  rateLimits?: Partial<RateLimitSettings>;
  /** Where shared rate counts go instead of the harness's Redis (e.g. a Redis that is down). */
  sharedRateCounts?: SharedCounts;
  trustProxy?: false | number | string;
  /** Live-update timings (keepalive, coalescing, refresh) of the test's own. */
  liveUpdates?: QueueEventsOptions;
}

export const SECRET = "test-secret-key-that-is-long-enough-0123456789";

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-test-"));
  const clock = new ManualClock(Date.now());
  let keys = deriveKeys(SECRET);
  const allowPrivateCallbacks = options.allowPrivateCallbacks ?? true;
  const backend = currentAdapter() === "production" ? await productionBackend() : embeddedBackend(dir);
  let closeIndex: () => Promise<void> = async () => {};

  async function build(): Promise<{
    store: KyselyStore;
    room: TestRoom;
    app: FastifyInstance;
    rateLimits: RateLimits;
  }> {
    const store = backend.openStore();
    await store.migrate();
    const opened = backend.openIndex();
    closeIndex = opened.close;
    const room = options.room ?? {};
    const index = room.index ?? opened.index ?? new MemoryQueueIndex();
    const events = new LocalChangeEvents();
    const shared: Shared = {
      index,
      events: { publish: events, local: events },
      tryLock: undefined,
      loginAttempts: undefined,
      rateCounts: opened.rateCounts,
      readiness: [],
      close: () => index.close(),
    };
    const logger = pino({ level: "silent" });
    const base = { store, clock, keys, logger, shared };
    const parts = await openProcessParts({
      ...base,
      issuer: "anteroom-test",
      runsWorker: true,
    });
    const worker = composeWorker({
      ...base,
      parts,
      settings: {
        allowPrivateCallbacks,
        callbackLeaseMs: room.callbackLeaseMs ?? 60_000,
        ...(room.callbackTimeoutMs === undefined ? {} : { callbackTimeoutMs: room.callbackTimeoutMs }),
        ...(room.callbackConcurrency === undefined ? {} : { callbackConcurrency: room.callbackConcurrency }),
      },
      ...(room.sender === undefined ? {} : { sender: room.sender }),
      ...(room.retry === undefined ? {} : { retry: room.retry }),
      ...(room.random === undefined ? {} : { random: room.random }),
      ...(room.intervals === undefined ? {} : { intervals: room.intervals }),
    });
    await worker.rebuildIndex();
    const api = composeApi({
      ...base,
      parts,
      settings: {
        adminTokenTtlSeconds: 3600,
        allowPrivateCallbacks,
        rateLimits:
          options.rateLimits === undefined
            ? NO_RATE_LIMITS
            : { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
        trustProxy: options.trustProxy ?? false,
        version: "test",
        metricsEndpoint: options.metrics ?? { serve: true },
      },
      ...(options.throttle === undefined ? {} : { throttle: options.throttle }),
      ...(options.sharedRateCounts === undefined ? {} : { rateCounts: options.sharedRateCounts }),
      ...(options.liveUpdates === undefined ? {} : { liveUpdates: options.liveUpdates }),
    });
    const app = await buildApp({ ...api.app, logger: undefined });
    const testRoom: TestRoom = {
      index,
      visitors: api.app.visitors,
      admission: parts.admission,
      metrics: parts.metrics,
      events,
      queues: parts.queues,
      releaser: worker.releaser,
      expiry: worker.expiry,
      dispatcher: worker.dispatcher,
      analytics: worker.analytics,
      loop: worker.loop,
      engine: {
        releaseDue: () => worker.releaser.releaseDue(),
        expire: () => worker.expiry.expire(),
        refresh: () => parts.queues.refresh(),
      },
      async close() {
        api.close();
        await worker.close();
        parts.close();
        await shared.close();
      },
    };
    return { store, room: testRoom, app, rateLimits: api.app.rateLimits };
  }

  // Bearer tokens by email, with the (manual) time they were issued: tests move the clock by hours.
  const tokens = new Map<string, { token: string; issuedAt: number }>();
  const built = await build();
  const harness: Harness = {
    ...built,
    clock,
    keys,
    dir,
    async login(email, role = "admin") {
      let token = tokens.get(email)?.token;
      if (token === undefined || clock.now() - (tokens.get(email)?.issuedAt ?? 0) > 1_800_000) {
        await ensureUser({ store: harness.store, clock }, { email, password: PASSWORD, role });
        const response = await harness.app.inject({
          method: "POST",
          url: "/auth/token",
          payload: { grant_type: "password", username: email, password: PASSWORD },
        });
        if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
        token = response.json<{ access_token: string }>().access_token;
        tokens.set(email, { token, issuedAt: clock.now() });
      }
      return { authorization: `Bearer ${token}` };
    },
    async userId(email) {
      const user = await harness.store.users.findByEmail(email);
      if (user === undefined) throw new Error(`no user ${email}`);
      return user.id;
    },
    async restart(secrets) {
      await harness.app.close();
      await harness.room.close();
      await closeIndex();
      await harness.store.close();
      if (secrets !== undefined) {
        keys = deriveKeys(secrets.secretKey, secrets.previousSecretKey);
        tokens.clear();
      }
      Object.assign(harness, { ...(await build()), keys });
    },
    async close() {
      await harness.app.close();
      await harness.room.close();
      await closeIndex();
      await harness.store.close();
      await backend.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

// What tests do through the API (sites, joins, polls), kept beside the harness they drive.
export * from "./site.js";
