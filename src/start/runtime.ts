import type { Logger } from "pino";
import type { Config } from "../config.js";
import { type Clock, systemClock } from "../domain/clock.js";
import { type LoginAttemptStore, LoginThrottle } from "../domain/login-throttle.js";
import { type DerivedKeys, deriveKeys } from "../domain/secrets.js";
import { AuthService } from "../services/auth.js";
import type { KyselyStore } from "../store/kysely/store.js";
import { openStore } from "./record.js";
import { resolveSecretKey } from "./secret.js";

/**
 * What every command shares once config is parsed: the record, derived keys, the clock. Logins are the API
 * process's alone (see `openAuth`): workers and one-shot commands take none.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: KyselyStore;
  keys: DerivedKeys;
  close(): Promise<void>;
}

export async function openRuntime(
  config: Config,
  logger: Logger,
  options: { migrate: boolean },
): Promise<Runtime> {
  const keys = deriveKeys(resolveSecretKey(config, logger), config.previousSecretKey);
  const store = openStore(config.database);
  if (options.migrate) {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, "applied migrations");
  }
  const clock = systemClock;
  return { config, logger, clock, store, keys, close: () => store.close() };
}

/**
 * The password grant and bearer-token checks of an API process. Its login counters live in `attempts`
 * (Redis, in production, so every API process shares them), else in this process (embedded mode).
 */
export function openAuth(runtime: Runtime, attempts?: LoginAttemptStore): AuthService {
  return new AuthService({
    store: runtime.store,
    clock: runtime.clock,
    signingKey: runtime.keys.adminJwt,
    previousSigningKey: runtime.keys.previous?.adminJwt,
    tokenTtlSeconds: runtime.config.adminTokenTtlSeconds,
    throttle: new LoginThrottle(runtime.clock, attempts === undefined ? {} : { store: attempts }),
  });
}

/** Production mode's Redis (config refuses production without it; this keeps the type honest). */
export function requireRedisUrl(config: Config): string {
  if (config.redisUrl === undefined) throw new Error("REDIS_URL is required in production mode");
  return config.redisUrl;
}

/** The waiting-room settings every process derives the same way from its runtime and config. */
export function roomBasics(runtime: Runtime) {
  return {
    store: runtime.store,
    clock: runtime.clock,
    keys: runtime.keys,
    logger: runtime.logger,
    allowPrivateCallbacks: runtime.config.allowPrivateCallbacks,
    issuer: runtime.config.publicUrl ?? "anteroom",
    callbackLeaseMs: runtime.config.callbackLeaseSeconds * 1000,
  };
}
