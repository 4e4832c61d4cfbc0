import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "../../src/app.js";
import { AuthService } from "../../src/domain/auth.js";
import { ManualClock } from "../../src/domain/clock.js";
import { LoginThrottle } from "../../src/domain/login-throttle.js";
import { type DerivedKeys, deriveKeys } from "../../src/domain/secrets.js";
import { ensureUser } from "../../src/domain/users.js";
import {
  createWaitingRoom,
  type WaitingRoom,
  type WaitingRoomOptions,
} from "../../src/start/waiting-room.js";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { Role } from "../../src/store/types.js";

export const PASSWORD = "correct horse battery staple";

/** One embedded service per test file: a real SQLite file in a temp dir, a manual clock, `app.inject`. */
export interface Harness {
  app: FastifyInstance;
  store: KyselyStore;
  clock: ManualClock;
  keys: DerivedKeys;
  dir: string;
  room: WaitingRoom;
  /** Creates (once) a user with this email and role, and returns a bearer header for them. */
  login(email: string, role?: Role): Promise<{ authorization: string }>;
  userId(email: string): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  throttle?: LoginThrottle;
  allowPrivateCallbacks?: boolean;
  room?: Partial<Omit<WaitingRoomOptions, "store" | "clock" | "keys">>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), "anteroom-test-"));
  const store = openSqliteStore(path.join(dir, "anteroom.db"));
  await store.migrate();
  const clock = new ManualClock(Date.now());
  const keys = deriveKeys("test-secret-key-that-is-long-enough-0123456789");
  const auth = new AuthService({
    store,
    clock,
    signingKey: keys.adminJwt,
    tokenTtlSeconds: 3600,
    throttle: options.throttle ?? new LoginThrottle(clock),
  });
  const room = await createWaitingRoom({
    store,
    clock,
    keys,
    logger: pino({ level: "silent" }),
    allowPrivateCallbacks: options.allowPrivateCallbacks ?? true,
    issuer: "anteroom-test",
    ...options.room,
  });
  await room.prepare();
  const app = await buildApp({
    store,
    clock,
    keys,
    auth,
    room,
    allowPrivateCallbacks: options.allowPrivateCallbacks ?? true,
    readiness: [{ name: "record", check: () => store.ping() }],
  });
  const tokens = new Map<string, string>();
  const harness: Harness = {
    app,
    store,
    clock,
    keys,
    dir,
    room,
    async login(email, role = "admin") {
      let token = tokens.get(email);
      if (token === undefined) {
        await ensureUser({ store, clock }, { email, password: PASSWORD, role });
        const response = await app.inject({
          method: "POST",
          url: "/auth/token",
          payload: { grant_type: "password", username: email, password: PASSWORD },
        });
        if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
        token = response.json<{ access_token: string }>().access_token;
        tokens.set(email, token);
      }
      return { authorization: `Bearer ${token}` };
    },
    async userId(email) {
      const user = await store.users.findByEmail(email);
      if (user === undefined) throw new Error(`no user ${email}`);
      return user.id;
    },
    async close() {
      await app.close();
      await room.close();
      await store.close();
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
