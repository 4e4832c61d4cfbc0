import { isIP } from "node:net";
import path from "node:path";
import { isEmail } from "./domain/email.js";
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from "./domain/rate-limit.js";

/**
 * Configuration, parsed once at boot from the environment. Nothing else in the code base reads
 * `process.env`: everything that varies per deployment arrives here, is validated, and is passed down.
 */
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface DatabaseConfig {
  kind: "sqlite" | "postgres";
  /** SQLite: a file path (or ":memory:"); PostgreSQL: the connection URL. */
  url: string;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
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
  queueThreshold: number;
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

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Reads one variable at a time and collects every problem, so one start-up names all bad values. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return undefined;
    const value = raw.trim();
    return value === "" ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  }

  /** A rate limit: 0 (off) or an integer from min to max. */
  limit(name: string, fallback: number, min: number, max = 1_000_000): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || (value !== 0 && (value < min || value > max))) {
      this.problems.push(`${name} must be 0 (no limit) or an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return false;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return false;
  }

  trustProxy(name: string): false | number | string {
    const raw = this.string(name);
    if (raw === undefined || ["false", "0", "no", "off"].includes(raw.toLowerCase())) return false;
    if (["true", "yes", "on"].includes(raw.toLowerCase())) return 1;
    if (/^\d+$/.test(raw)) return Number(raw);
    const entries = raw.split(",").map((entry) => entry.trim());
    if (entries.every((entry) => isIP(entry.split("/")[0] ?? "") !== 0)) return entries.join(",");
    this.problems.push(
      `${name} must be false, true (the nearest proxy), a hop count, or proxy addresses/CIDRs (got "${raw}")`,
    );
    return false;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must be a URL starting with ${protocols.join(" or ")}//`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return raw;
  }
}

function parseDatabase(reader: EnvReader, dataDir: string): DatabaseConfig {
  const raw = reader.string("DB_URL");
  if (raw === undefined) return { kind: "sqlite", url: path.join(dataDir, "anteroom.db") };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    reader.url("DB_URL", ["postgres:", "postgresql:"]);
    return { kind: "postgres", url: raw };
  }
  const sqlite = /^(sqlite|file):(.+)$/.exec(raw);
  if (sqlite?.[2]) {
    const file = sqlite[2].replace(/^\/\/(?=\/)/, "");
    return { kind: "sqlite", url: file === ":memory:" ? file : path.resolve(file) };
  }
  reader.problems.push(
    'DB_URL must be "postgres://user@host:5432/db" or "sqlite:path/to/file.db" (got an unknown scheme)',
  );
  return { kind: "sqlite", url: path.join(dataDir, "anteroom.db") };
}

function parseRateLimits(r: EnvReader): RateLimitSettings {
  const d = DEFAULT_RATE_LIMITS;
  return {
    // At least 5 a second: a visitor polling every second must stay well clear of it.
    statusPerSecond: r.limit("RATE_LIMIT_STATUS_PER_SECOND", d.statusPerSecond, 5),
    joinsPerSecond: r.limit("RATE_LIMIT_JOINS_PER_SECOND", d.joinsPerSecond, 1),
    cancelsPerSecond: r.limit("RATE_LIMIT_CANCELS_PER_SECOND", d.cancelsPerSecond, 1),
    admissionChecksPerSecond: r.limit(
      "RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND",
      d.admissionChecksPerSecond,
      1,
    ),
    adminPerSecond: r.limit("RATE_LIMIT_ADMIN_PER_SECOND", d.adminPerSecond, 1),
    keyFailuresPerMinute: r.limit("RATE_LIMIT_KEY_FAILURES_PER_MINUTE", d.keyFailuresPerMinute, 1),
  };
}

export function parseConfig(env: Env): Config {
  const r = new EnvReader(env);
  const dataDir = path.resolve(r.string("DATA_DIR") ?? "data");
  const logLevel = (r.string("LOG_LEVEL") ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    r.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);
  }
  const secretKey = r.string("SECRET_KEY");
  if (secretKey !== undefined && secretKey.length < MIN_SECRET_KEY_LENGTH) {
    r.problems.push(
      `SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters (use: openssl rand -hex 32)`,
    );
  }
  const previousSecretKey = r.string("SECRET_KEY_PREVIOUS");
  if (previousSecretKey !== undefined) {
    if (secretKey === undefined) {
      r.problems.push("SECRET_KEY_PREVIOUS is set but SECRET_KEY is not: set the new key in SECRET_KEY");
    } else if (previousSecretKey === secretKey) {
      r.problems.push("SECRET_KEY_PREVIOUS must differ from SECRET_KEY");
    } else if (previousSecretKey.length < MIN_SECRET_KEY_LENGTH) {
      r.problems.push(`SECRET_KEY_PREVIOUS must be at least ${MIN_SECRET_KEY_LENGTH} characters`);
    }
  }
  const adminEmail = r.string("ADMIN_EMAIL");
  if (adminEmail !== undefined && !isEmail(adminEmail)) {
    r.problems.push(`ADMIN_EMAIL is not an email address (got "${adminEmail}")`);
  }
  const adminPassword = r.string("ADMIN_PASSWORD");
  if (adminPassword !== undefined && adminPassword.length < 12) {
    r.problems.push("ADMIN_PASSWORD must be at least 12 characters");
  }
  if (adminPassword !== undefined && adminEmail === undefined) {
    r.problems.push(
      "ADMIN_PASSWORD is set but ADMIN_EMAIL is not: both are needed to create the first admin",
    );
  }
  const config: Config = {
    port: r.int("PORT", 8000, 0, 65535),
    host: r.string("HOST") ?? "0.0.0.0",
    dataDir,
    logLevel: logLevel as LogLevel,
    database: parseDatabase(r, dataDir),
    redisUrl: r.url("REDIS_URL", ["redis:", "rediss:"]),
    secretKey,
    previousSecretKey,
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    adminTokenTtlSeconds: r.int("ADMIN_TOKEN_TTL_SECONDS", 3600, 60, 7 * 24 * 3600),
    smtp: {
      host: r.string("SMTP_HOST"),
      port: r.int("SMTP_PORT", 587, 1, 65535),
      user: r.string("SMTP_USER"),
      pass: r.string("SMTP_PASS"),
    },
    webhookUrl: r.url("WEBHOOK_URL", ["http:", "https:"]),
    queueThreshold: r.int("QUEUE_THRESHOLD", 100, 1, 1_000_000_000),
    allowPrivateCallbacks: r.bool("ALLOW_PRIVATE_CALLBACKS"),
    trustProxy: r.trustProxy("TRUST_PROXY"),
    publicUrl: r.url("PUBLIC_URL", ["http:", "https:"])?.replace(/\/+$/, ""),
    workerPort: r.int("WORKER_PORT", 9100, 0, 65535),
    metricsPort: r.string("METRICS_PORT") === undefined ? undefined : r.int("METRICS_PORT", 0, 1, 65535),
    metricsToken: r.string("METRICS_TOKEN"),
    callbackLeaseSeconds: r.int("CALLBACK_LEASE_SECONDS", 60, 5, 3600),
    rateLimits: parseRateLimits(r),
  };
  if (config.metricsToken !== undefined && config.metricsToken.length < 16) {
    r.problems.push("METRICS_TOKEN must be at least 16 characters (use: openssl rand -hex 16)");
  }
  if (config.metricsPort !== undefined && config.metricsPort === config.port) {
    r.problems.push("METRICS_PORT must differ from PORT (it keeps /metrics off the public port)");
  }
  if (config.database.kind === "postgres") {
    // Several API processes answer status polls from one shared index, and verify one another's tokens.
    if (config.redisUrl === undefined) {
      r.problems.push(
        "REDIS_URL is required with a PostgreSQL DB_URL: API processes share the hot index in Redis (embedded mode keeps it in process)",
      );
    }
    if (config.secretKey === undefined) {
      r.problems.push(
        "SECRET_KEY is required with a PostgreSQL DB_URL: every process must sign and verify with the same key",
      );
    }
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
