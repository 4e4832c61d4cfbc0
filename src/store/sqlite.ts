import fs from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { KyselyStore } from "./kysely/store.js";
import type { Database } from "./schema.js";
import { SqliteTicketRepository } from "./sqlite-tickets.js";

/**
 * The embedded record: one SQLite file, WAL journal, fsync at every commit (synchronous=FULL) so an
 * acknowledged write survives a power cut. One process owns the file.
 */
export function openSqliteStore(file: string): KyselyStore {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = FULL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyStore(db, "sqlite", new SqliteTicketRepository(db, database));
}
