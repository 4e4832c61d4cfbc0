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
  /** A schema to work in (search_path), e.g. one per test run; default: the server's default. */
  schema?: string;
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  pool.on("error", () => {
    // An idle client lost its connection (server restart); the pool replaces it on next use.
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, "postgres", new PostgresTicketRepository(db), options.schema);
}
