import path from "node:path";
import { Type } from "typebox";
import { isEmail } from "../domain/email.js";
import { DEFAULT_RATE_LIMITS as LIMITS } from "../domain/rate-limit.js";
import { type DatabaseConfig, MIN_SECRET_KEY_LENGTH } from "./types.js";
import {
  choice,
  flag,
  integer,
  isAddressList,
  limit,
  text,
  url,
  type Variable,
  variable,
} from "./variables.js";

/**
 * Every setting Anteroom reads, one declaration each, in the order the README table and .env.example list
 * them. Rules that involve two variables are in rules.ts; assembling the Config is parse.ts.
 */

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const SERVER = "Server";
const STORAGE = "Storage";
const SECRETS = "Secrets";
const ADMIN = "First admin";
const LIMITS_GROUP = "Rate limits (0 turns one off)";
const PROCESSES = "Workers and metrics";
const ALERTS = "Alerts";
const LOGS = "Logs";

/** sqlite:path, file:path or postgres(ql)://…; anything else is left as text for the schema to refuse. */
function database(raw: string): unknown {
  if (/^postgres(ql)?:\/\//.test(raw)) return URL.canParse(raw) ? { kind: "postgres", url: raw } : raw;
  const file = /^(sqlite|file):(.+)$/.exec(raw)?.[2]?.replace(/^\/\/(?=\/)/, "");
  if (file === undefined) return raw;
  return { kind: "sqlite", url: file === ":memory:" ? file : path.resolve(file) } satisfies DatabaseConfig;
}

function trustProxy(raw: string): unknown {
  const word = raw.toLowerCase();
  if (["false", "0", "no", "off"].includes(word)) return false;
  if (["true", "yes", "on"].includes(word)) return 1;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .join(",");
}

export const VARIABLES = {
  PORT: integer({ group: SERVER, doc: "HTTP port" }, { min: 0, max: 65535, fallback: 8000 }),
  HOST: variable({
    group: SERVER,
    doc: "interface to listen on",
    schema: Type.String(),
    fallback: "0.0.0.0",
    expected: "an interface address",
  }),
  PUBLIC_URL: url(
    {
      group: SERVER,
      doc: "the URL visitors and sites reach this service at; also the `iss` of admission tokens",
      shown: "unset: `iss` is `anteroom`",
      sample: "https://queue.example.com",
    },
    ["http:", "https:"],
    (raw) => raw.replace(/\/+$/, ""),
  ),
  TRUST_PROXY: variable({
    group: SERVER,
    doc: "whose `X-Forwarded-For` to believe for the client address (login and rate limits): `true` (the nearest proxy), a hop count, or proxy addresses/CIDRs (`10.0.0.0/8,192.168.1.5`)",
    schema: Type.Union([
      Type.Literal(false),
      Type.Integer({ minimum: 1 }),
      Type.Refine(Type.String(), isAddressList),
    ]),
    fallback: false as const,
    expected: "false, true (the nearest proxy), a hop count, or proxy addresses/CIDRs",
    convert: trustProxy,
  }),
  ALLOW_PRIVATE_CALLBACKS: flag({
    group: SERVER,
    doc: "allow callback URLs on loopback/private/link-local addresses (tests, private networks)",
  }),

  DATA_DIR: variable({
    group: STORAGE,
    doc: "where the embedded database, generated secret and first-admin password live",
    schema: Type.String(),
    fallback: "./data",
    expected: "a directory",
  }),
  DB_URL: variable({
    group: STORAGE,
    doc: "the record: `sqlite:path/to/file.db`, or `postgres://user:pass@host:5432/db` (PostgreSQL selects production mode)",
    shown: "SQLite file `DATA_DIR/anteroom.db`",
    sample: "postgres://anteroom:password@db:5432/anteroom",
    secret: true,
    schema: Type.Object({ kind: Type.Enum(["sqlite", "postgres"]), url: Type.String() }),
    fallback: undefined,
    expected: '"postgres://user@host:5432/db" or "sqlite:path/to/file.db"',
    convert: database,
  }),
  REDIS_URL: url(
    {
      group: STORAGE,
      doc: "Redis for the shared hot index; required with a PostgreSQL `DB_URL`",
      sample: "redis://cache:6379",
      secret: true,
    },
    ["redis:", "rediss:"],
  ),

  SECRET_KEY: text(
    {
      group: SECRETS,
      doc: `at least ${MIN_SECRET_KEY_LENGTH} characters; signs admin and visitor tokens, encrypts secrets at rest; required (and the same everywhere) with PostgreSQL`,
      shown: "generated once into `DATA_DIR/secret.key`, with a warning (embedded only)",
      secret: true,
    },
    { minLength: MIN_SECRET_KEY_LENGTH, hint: "use: openssl rand -hex 32" },
  ),
  SECRET_KEY_PREVIOUS: text(
    {
      group: SECRETS,
      doc: "during a `SECRET_KEY` rotation, the key it replaces: tokens it signed stay valid and secrets it sealed stay readable, nothing new uses it (see [docs/operations.md](docs/operations.md#security))",
      secret: true,
    },
    { minLength: MIN_SECRET_KEY_LENGTH },
  ),

  ADMIN_EMAIL: text(
    {
      group: ADMIN,
      doc: "first admin's email (created at first start together with `ADMIN_PASSWORD`); also receives every alert",
      sample: "ops@example.com",
    },
    { check: isEmail, expected: "an email address" },
  ),
  ADMIN_PASSWORD: text(
    {
      group: ADMIN,
      doc: "first admin's password (12+ characters)",
      shown: "unset: a password is generated into `DATA_DIR/initial-admin-password` when no user exists",
      secret: true,
    },
    { minLength: 12 },
  ),
  ADMIN_TOKEN_TTL_SECONDS: integer(
    { group: ADMIN, doc: "lifetime of admin bearer tokens" },
    { min: 60, max: 7 * 24 * 3600, fallback: 3600 },
  ),

  RATE_LIMIT_STATUS_PER_SECOND: limit(
    {
      group: LIMITS_GROUP,
      doc: "status polls per client address (IPv6: per /64), over 10 s windows; 0 or 5 to 1,000,000",
    },
    5, // a visitor polling every second must stay well clear of it
    LIMITS.statusPerSecond,
  ),
  RATE_LIMIT_JOINS_PER_SECOND: limit(
    {
      group: LIMITS_GROUP,
      doc: "joins per application, unless it sets its own `max_joins_per_second`; 0 to 1,000,000",
    },
    1,
    LIMITS.joinsPerSecond,
  ),
  RATE_LIMIT_CANCELS_PER_SECOND: limit(
    { group: LIMITS_GROUP, doc: "cancels per client address, over 10 s windows; 0 to 1,000,000" },
    1,
    LIMITS.cancelsPerSecond,
  ),
  RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND: limit(
    { group: LIMITS_GROUP, doc: "`POST /admissions/check` per application (API key); 0 to 1,000,000" },
    1,
    LIMITS.admissionChecksPerSecond,
  ),
  RATE_LIMIT_ADMIN_PER_SECOND: limit(
    { group: LIMITS_GROUP, doc: "admin API requests per client address, over 10 s windows; 0 to 1,000,000" },
    1,
    LIMITS.adminPerSecond,
  ),
  RATE_LIMIT_KEY_FAILURES_PER_MINUTE: limit(
    {
      group: LIMITS_GROUP,
      doc: "requests with an unknown API key or publishable key, and lookups of an unknown application, per client address (each costs a record read); 0 to 1,000,000",
    },
    1,
    LIMITS.keyFailuresPerMinute,
  ),
  RATE_LIMIT_PAGE_JOINS_PER_SECOND: limit(
    {
      group: LIMITS_GROUP,
      doc: "joins with the publishable key (from pages) per client address, over 10 s windows; 0 to 1,000,000",
    },
    1,
    LIMITS.pageJoinsPerSecond,
  ),

  METRICS_TOKEN: text(
    {
      group: PROCESSES,
      doc: "when set, `/metrics` (API and worker ports) requires `Authorization: Bearer <token>`; 16+ characters",
      shown: "unset: open",
      secret: true,
    },
    { minLength: 16, hint: "use: openssl rand -hex 16" },
  ),
  METRICS_PORT: integer(
    {
      group: PROCESSES,
      doc: "serve the API process's `/metrics` on this port only, off the public port",
      shown: "unset: on `PORT`",
      sample: "9101",
    },
    { min: 1, max: 65535, fallback: undefined },
  ),
  WORKER_PORT: integer(
    { group: PROCESSES, doc: "`anteroom worker` serves `/metrics`, `/healthz`, `/readyz` here" },
    { min: 0, max: 65535, fallback: 9100 },
  ),
  CALLBACK_LEASE_SECONDS: integer(
    {
      group: PROCESSES,
      doc: "how long a worker owns a callback it is sending before another may take it over",
    },
    { min: 5, max: 3600, fallback: 60 },
  ),
  RETENTION_DAYS: integer(
    {
      group: PROCESSES,
      doc: "days a visitor's ticket (and its callbacks) is kept after it ended; analytics rollups are kept for good",
    },
    { min: 1, max: 3650, fallback: 30 },
  ),

  SMTP_HOST: text({
    group: ALERTS,
    doc: "mail server for alert e-mails (unset: no e-mail)",
    sample: "smtp.example.com",
  }),
  SMTP_PORT: integer({ group: ALERTS, doc: "mail server port" }, { min: 1, max: 65535, fallback: 587 }),
  SMTP_USER: text({ group: ALERTS, doc: "mail server user" }),
  SMTP_PASS: text({ group: ALERTS, doc: "mail server password", secret: true }),
  WEBHOOK_URL: url(
    {
      group: ALERTS,
      doc: "webhook alerts are posted to (Slack, Microsoft Teams or plain JSON; see `WEBHOOK_FORMAT`); its path is a secret and never logged",
    },
    ["http:", "https:"],
  ),
  WEBHOOK_FORMAT: choice(
    {
      group: ALERTS,
      doc: "`auto` (Slack for hooks.slack.com, Teams for *.webhook.office.com and *.logic.azure.com, JSON otherwise), `slack`, `teams` or `json`",
    },
    ["auto", "slack", "teams", "json"],
    "auto",
  ),
  QUEUE_THRESHOLD: integer(
    {
      group: ALERTS,
      doc: "queue length above which an alert fires (a queue's `alert_threshold` overrides it)",
    },
    { min: 1, max: 1_000_000_000, fallback: 100 },
  ),
  ALERT_COOLDOWN_SECONDS: integer(
    {
      group: ALERTS,
      doc: "after an alert resolves, how long the same alert stays quiet if its condition comes back (against flapping)",
    },
    { min: 0, max: 604_800, fallback: 900 },
  ),

  LOG_LEVEL: choice(
    { group: LOGS, doc: LOG_LEVELS.map((level) => `\`${level}\``).join(", ") },
    LOG_LEVELS,
    "info",
  ),
  LOG_FORMAT: choice(
    {
      group: LOGS,
      doc: "`pretty` (coloured one-line logs, for people), `json` (JSON lines, for collectors), or `auto`: pretty when stdout is a terminal, JSON otherwise",
    },
    ["auto", "pretty", "json"],
    "auto",
  ),
};

export type Variables = typeof VARIABLES;
export type VariableName = keyof Variables;
/** The typed value of every variable, as the schema reads it. */
export type Values = { [K in VariableName]: Variables[K] extends Variable<infer T> ? T : never };
