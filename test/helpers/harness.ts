import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { inject } from "vitest";
import { type AppDeps, buildApp } from "../../src/app.js";
import { ManualClock } from "../../src/domain/clock.js";
import { LoginThrottle } from "../../src/domain/login-throttle.js";
import {
  DEFAULT_RATE_LIMITS,
  NO_RATE_LIMITS,
  type RateLimitSettings,
  RateLimits,
} from "../../src/domain/rate-limit.js";
import type { SharedCounts } from "../../src/domain/rate-limiter.js";
import { type DerivedKeys, deriveKeys } from "../../src/domain/secrets.js";
import type { VisitorStatus } from "../../src/domain/visitor-status.js";
import { AuthService } from "../../src/services/auth.js";
import { ensureUser } from "../../src/services/users.js";
import {
  createWaitingRoom,
  type WaitingRoom,
  type WaitingRoomOptions,
} from "../../src/start/waiting-room.js";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import type { Role } from "../../src/store/types.js";
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

/** The waiting room, plus `engine` to run the worker's rounds by hand. */
export type TestRoom = WaitingRoom & { engine: WorkerRounds };

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

export interface HarnessOptions {
  throttle?: LoginThrottle;
  metrics?: AppDeps["metrics"];
  allowPrivateCallbacks?: boolean;
  room?: Partial<Omit<WaitingRoomOptions, "store" | "clock" | "keys">>;
  /**
   * Rate limits over the defaults; without it the app limits nothing (tests that load it are not about
   * limits). In the production project their counts are shared through the harness's Redis prefix.
   */
  rateLimits?: Partial<RateLimitSettings>;
  /** Where shared rate counts go instead of the harness's Redis (e.g. a Redis that is down). */
  sharedRateCounts?: SharedCounts;
  trustProxy?: false | number | string;
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
    const auth = new AuthService({
      store,
      clock,
      signingKey: keys.adminJwt,
      previousSigningKey: keys.previous?.adminJwt,
      tokenTtlSeconds: 3600,
      throttle: options.throttle ?? new LoginThrottle(clock),
    });
    const created = await createWaitingRoom({
      store,
      clock,
      keys,
      logger: pino({ level: "silent" }),
      allowPrivateCallbacks,
      issuer: "anteroom-test",
      ...(opened.index === undefined ? {} : { index: opened.index }),
      ...options.room,
    });
    const room: TestRoom = {
      ...created,
      engine: {
        releaseDue: () => created.releaser.releaseDue(),
        expire: () => created.expiry.expire(),
        refresh: () => created.queues.refresh(),
      },
    };
    await room.prepare();
    const shared = options.sharedRateCounts ?? opened.rateCounts;
    const rateLimits = new RateLimits(
      options.rateLimits === undefined ? NO_RATE_LIMITS : { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
      clock,
      shared === undefined ? {} : { shared },
    );
    const app = await buildApp({
      store,
      clock,
      keys,
      auth,
      room,
      allowPrivateCallbacks,
      readiness: [{ name: "record", check: () => store.ping() }],
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      rateLimits,
      ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    });
    return { store, room, app, rateLimits };
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

/** A JSON body of an inject response, typed for the test's convenience. */
export type Json = Record<string, unknown>;

export const appBody = (name = "Shop") => ({
  name,
  domain: "shop.example.com",
  callback_url: "http://127.0.0.1:9/callback",
});

/** An application and a queue in it, created through the admin API. */
export async function createSite(
  h: Harness,
  queue: Json = {},
  application: Json = {},
): Promise<{ appId: string; apiKey: string; webhookSecret: string; queueId: string }> {
  const admin = await h.login("admin@example.com");
  const app = await h.app.inject({
    method: "POST",
    url: "/applications/",
    headers: admin,
    payload: { ...appBody(), ...application },
  });
  if (app.statusCode !== 201) throw new Error(`create application: ${app.body}`);
  const {
    id: appId,
    api_key: apiKey,
    webhook_secret: webhookSecret,
  } = app.json<{
    id: string;
    api_key: string;
    webhook_secret: string;
  }>();
  const created = await h.app.inject({
    method: "POST",
    url: "/queues/",
    headers: admin,
    payload: { application_id: appId, name: "Main", max_users_per_minute: 60, ...queue },
  });
  if (created.statusCode !== 201) throw new Error(`create queue: ${created.body}`);
  await h.room.engine.refresh();
  return { appId, apiKey, webhookSecret, queueId: created.json<{ id: string }>().id };
}

/** A join answer: the visitor status plus the visitor token. */
export type JoinBody = VisitorStatus & { token: string };

export async function join(
  h: Harness,
  apiKey: string,
  queueId: string,
  visitorId: string,
): Promise<JoinBody> {
  const response = await h.app.inject({
    method: "POST",
    url: "/join",
    headers: { "x-api-key": apiKey },
    payload: { queue_id: queueId, visitor_id: visitorId },
  });
  if (response.statusCode !== 200)
    throw new Error(`join ${visitorId}: ${response.statusCode} ${response.body}`);
  return response.json<JoinBody>();
}

export async function status(h: Harness, token: string): Promise<JoinBody> {
  const response = await h.app.inject({
    method: "GET",
    url: `/queue_status?token=${encodeURIComponent(token)}`,
  });
  if (response.statusCode !== 200) throw new Error(`status: ${response.statusCode} ${response.body}`);
  return response.json<JoinBody>();
}
