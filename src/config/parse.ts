import path from "node:path";
import { RULES } from "./rules.js";
import { VARIABLES, type Values, type VariableName } from "./schema.js";
import { type Config, ConfigError, type Env } from "./types.js";
import { read } from "./variables.js";

/** Every variable read through its declaration, then the rules across them; every problem is collected. */
export function readValues(env: Env): { values: Values; problems: string[] } {
  const problems: string[] = [];
  const failed = new Set<VariableName>();
  const values: Partial<Record<VariableName, unknown>> = {};
  for (const name of Object.keys(VARIABLES) as VariableName[]) {
    const { value, problem } = read<unknown>(env, name, VARIABLES[name]);
    values[name] = value;
    if (problem !== undefined) {
      problems.push(problem);
      failed.add(name);
    }
  }
  // Each value came from its own declaration, whose schema checked it against the declared type.
  const typed = values as Values;
  for (const rule of RULES) {
    if (rule.uses.some((name) => failed.has(name))) continue;
    const problem = rule.problem(typed);
    if (problem !== undefined) problems.push(problem);
  }
  return { values: typed, problems };
}

function assemble(v: Values): Config {
  const dataDir = path.resolve(v.DATA_DIR);
  const database = v.DB_URL ?? { kind: "sqlite", url: path.join(dataDir, "anteroom.db") };
  return {
    mode: database.kind === "postgres" ? "production" : "embedded",
    port: v.PORT,
    host: v.HOST,
    dataDir,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    database,
    redisUrl: v.REDIS_URL,
    secretKey: v.SECRET_KEY,
    previousSecretKey: v.SECRET_KEY_PREVIOUS,
    adminEmail: v.ADMIN_EMAIL?.toLowerCase(),
    adminPassword: v.ADMIN_PASSWORD,
    adminTokenTtlSeconds: v.ADMIN_TOKEN_TTL_SECONDS,
    smtp: { host: v.SMTP_HOST, port: v.SMTP_PORT, user: v.SMTP_USER, pass: v.SMTP_PASS },
    webhookUrl: v.WEBHOOK_URL,
    webhookFormat: v.WEBHOOK_FORMAT,
    queueThreshold: v.QUEUE_THRESHOLD,
    alertCooldownSeconds: v.ALERT_COOLDOWN_SECONDS,
    allowPrivateCallbacks: v.ALLOW_PRIVATE_CALLBACKS,
    trustProxy: v.TRUST_PROXY,
    publicUrl: v.PUBLIC_URL,
    workerPort: v.WORKER_PORT,
    metricsPort: v.METRICS_PORT,
    metricsToken: v.METRICS_TOKEN,
    callbackLeaseSeconds: v.CALLBACK_LEASE_SECONDS,
    retentionDays: v.RETENTION_DAYS,
    rateLimits: {
      statusPerSecond: v.RATE_LIMIT_STATUS_PER_SECOND,
      joinsPerSecond: v.RATE_LIMIT_JOINS_PER_SECOND,
      cancelsPerSecond: v.RATE_LIMIT_CANCELS_PER_SECOND,
      admissionChecksPerSecond: v.RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND,
      adminPerSecond: v.RATE_LIMIT_ADMIN_PER_SECOND,
      keyFailuresPerMinute: v.RATE_LIMIT_KEY_FAILURES_PER_MINUTE,
      pageJoinsPerSecond: v.RATE_LIMIT_PAGE_JOINS_PER_SECOND,
    },
  };
}

/**
 * Configuration, parsed once at boot from the environment. Nothing else in the code base reads
 * `process.env`: everything that varies per deployment arrives here, is validated, and is passed down.
 * `problems` are added in front of any found here (the .env file's own, from loadConfig).
 */
export function parseConfig(env: Env, problems: readonly string[] = []): Config {
  const read = readValues(env);
  const all = [...problems, ...read.problems];
  if (all.length > 0) throw new ConfigError(all);
  return assemble(read.values);
}
