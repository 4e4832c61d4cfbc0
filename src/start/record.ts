import type { DatabaseConfig } from "../config.js";
import type { KyselyStore } from "../store/kysely/store.js";
import { openPostgresStore } from "../store/postgres.js";
import { openSqliteStore } from "../store/sqlite.js";

export function openStore(database: DatabaseConfig): KyselyStore {
  return database.kind === "postgres" ? openPostgresStore(database.url) : openSqliteStore(database.url);
}
