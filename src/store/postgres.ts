import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { KyselyStore } from "./kysely/store.js";
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
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
  });
  pool.on("error", () => {
    // An idle client lost its connection (server restart); the pool replaces it on next use.
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, "postgres");
}
