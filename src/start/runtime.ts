import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { type Clock, systemClock } from "../domain/clock.js";
import { type DerivedKeys, deriveKeys } from "../domain/secrets.js";
import type { KyselyStore } from "../store/kysely/store.js";
import { openRecord } from "./adapters.js";
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
  const store = openRecord(config);
  if (options.migrate) {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, "applied migrations");
  }
  const clock = systemClock;
  return { config, logger, clock, store, keys, close: () => store.close() };
}

/** Production processes never migrate on their own: `anteroom migrate` does, once, before a rollout. */
export async function requireCurrentSchema(store: KyselyStore): Promise<void> {
  const missing = await store.pendingMigrations();
  if (missing.length > 0) {
    throw new Error(
      `the database schema is out of date (pending: ${missing.join(", ")}); run: anteroom migrate`,
    );
  }
}
