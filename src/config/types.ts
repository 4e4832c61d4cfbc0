import type { RateLimitSettings } from "../domain/rate-limit.js";

import type { LogFormatSetting, LogLevel } from "../observability/logger.js";

export type { LogFormatSetting, LogLevel };

/**
 * Embedded: SQLite record, in-process index, the worker inside `anteroom serve`. Production: PostgreSQL
 * record, Redis index, separate `anteroom worker` processes. Derived from DB_URL alone.
 */
export type Mode = "embedded" | "production";

export interface DatabaseConfig {
  kind: "sqlite" | "postgres";
  /** SQLite: a file path (or ":memory:"); PostgreSQL: the connection URL. */
  url: string;
}

export interface Config {
  mode: Mode;
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  logFormat: LogFormatSetting;
  database: DatabaseConfig;
  redisUrl: string | undefined;
  /** Undefined until boot resolves it (generated and persisted under dataDir when not given). */
  secretKey: string | undefined;
  /** The key SECRET_KEY replaced, during a rotation: still accepted, never used to sign or seal. */
  previousSecretKey: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  adminTokenTtlSeconds: number;
  smtp: { host: string | undefined; port: number; user: string | undefined; pass: string | undefined };
  webhookUrl: string | undefined;
  webhookFormat: "auto" | "slack" | "teams" | "json";
  queueThreshold: number;
  alertCooldownSeconds: number;
  /** Days an ended ticket is kept before the worker prunes it (rollups stay). */
  retentionDays: number;
  allowPrivateCallbacks: boolean;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (login and rate limits): none
   * (false), the nearest N hops, or a list of proxy addresses/CIDRs. Never "all": the left-most entry is the
   * client's own.
   */
  trustProxy: false | number | string;
  publicUrl: string | undefined;
  /** `anteroom worker`: port of its /metrics, /healthz and /readyz. */
  workerPort: number;
  /** `anteroom serve`: serve /metrics on this port only, off the public one. */
  metricsPort: number | undefined;
  /** When set, /metrics requires `Authorization: Bearer <token>` (API and worker ports). */
  metricsToken: string | undefined;
  /** How long a worker owns a callback it is sending before another may take it over (a crashed worker). */
  callbackLeaseSeconds: number;
  /** Request rate limits (0 = off); see domain/rate-limit.ts. */
  rateLimits: RateLimitSettings;
}

/** SECRET_KEY, and the generated key file, must be at least this long: every derived key depends on it. */
export const MIN_SECRET_KEY_LENGTH = 32;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

export type Env = Readonly<Record<string, string | undefined>>;
