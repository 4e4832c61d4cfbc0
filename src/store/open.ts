import type { DatabaseConfig } from "../config.js";
import type { KyselyStore } from "./kysely/store.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";

export function openStore(database: DatabaseConfig): KyselyStore {
  return database.kind === "postgres" ? openPostgresStore(database.url) : openSqliteStore(database.url);
}
