import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { KyselyStore } from "./kysely/store.js";
import { PostgresTicketRepository } from "./postgres-tickets.js";
import type { Database } from "./schema.js";

// The record carries instants as ISO strings and counters as numbers in both dialects.
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
pg.types.setTypeParser(INT8_OID, (value) => Number(value));
pg.types.setTypeParser(TIMESTAMPTZ_OID, (value) => new Date(value).toISOString());

export interface PostgresOptions {
  poolSize?: number;
  /** Fail fast instead of queueing forever when the server is unreachable. */
  connectTimeoutMs?: number;
  /** Bound on any one query, so a stalled server cannot hold requests forever. */
  queryTimeoutMs?: number;
  /**
   * The server cancels a statement running longer than this. Just under the client's query timeout, so the
   * server gives up first and the connection stays usable. Migrations lift it (store.migrate()).
   */
  statementTimeoutMs?: number;
  /**
   * The server ends a session left inside an open transaction this long: a worker cut off mid-transaction
   * (a network partition, a frozen process) would otherwise keep its row locks, and with them an
   * application's releases, until TCP gives up on it (minutes to hours). Our transactions last
   * milliseconds.
   */
  idleInTransactionTimeoutMs?: number;
  /** A schema to work in (search_path), e.g. one per test run; default: the server's default. */
  schema?: string;
}

/** Session settings every connection starts with (see PostgresOptions). */
function sessionOptions(options: PostgresOptions, queryTimeoutMs: number): string {
  const settings: Record<string, string | number> = {
    statement_timeout: options.statementTimeoutMs ?? queryTimeoutMs - 1_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10_000,
    // The server probes a silent client too, so a dead worker's session goes even outside a transaction.
    tcp_keepalives_idle: 10,
    tcp_keepalives_interval: 5,
    tcp_keepalives_count: 3,
  };
  if (options.schema !== undefined) settings.search_path = options.schema;
  return Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(" ");
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): KyselyStore {
  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: queryTimeoutMs,
    // The client probes the server too, so a partition is noticed on an idle pooled connection.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    options: sessionOptions(options, queryTimeoutMs),
  });
  pool.on("error", () => {
    // An idle client lost its connection (server restart); the pool replaces it on next use.
  });
  pool.on("connect", (client) => {
    // A client in use can lose its session too (server restart, idle-in-transaction timeout): its query
    // fails and the pool discards it; without a listener the event would crash the process.
    client.on("error", () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, "postgres", new PostgresTicketRepository(db), options.schema);
}
