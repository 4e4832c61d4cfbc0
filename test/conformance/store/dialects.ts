import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import type { KyselyStore } from "../../../src/store/kysely/store.js";
import { openPostgresStore } from "../../../src/store/postgres.js";
import { openSqliteStore } from "../../../src/store/sqlite.js";
import type { Dialect } from "../../../src/store/types.js";
import { adminQuery, postgresForTests } from "../../helpers/postgres.js";

/**
 * The record's dialects for the Store conformance suite: each file runs its tests once per dialect, and
 * each test gets a database of its own (a temp SQLite file; a PostgreSQL schema, dropped afterwards), so
 * nothing is shared or flushed. PostgreSQL is found as test/helpers/postgres.ts decides: without one the
 * PostgreSQL half is skipped loudly outside CI, and fails under CI=true.
 */
export interface StoreDialect {
  name: Dialect;
  /** A store over an empty database of its own, migrated unless told not to. */
  open(options?: { migrate?: boolean }): Promise<{ store: KyselyStore; destroy(): Promise<void> }>;
}

const sqlite: StoreDialect = {
  name: "sqlite",
  async open({ migrate = true } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "anteroom-store-"));
    const store = openSqliteStore(path.join(dir, "record.db"));
    if (migrate) await store.migrate();
    return {
      store,
      async destroy() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(url: string): StoreDialect {
  return {
    name: "postgres",
    async open({ migrate = true } = {}) {
      const schema = `store_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
      await adminQuery(url, `create schema ${schema}`);
      // Several connections, so concurrent calls in a test really run side by side (as workers do).
      const store = openPostgresStore(url, { schema, poolSize: 8 });
      if (migrate) await store.migrate();
      return {
        store,
        async destroy() {
          await store.close();
          await adminQuery(url, `drop schema ${schema} cascade`);
        },
      };
    },
  };
}

const postgresUrl = await postgresForTests();

export const dialects: StoreDialect[] =
  postgresUrl === undefined ? [sqlite] : [sqlite, postgres(postgresUrl)];

/** A fresh, migrated store for every test of the enclosing describe block. */
export function useStore(dialect: StoreDialect): { readonly store: KyselyStore } {
  let opened: Awaited<ReturnType<StoreDialect["open"]>> | undefined;
  beforeEach(async () => {
    opened = await dialect.open();
  });
  afterEach(async () => {
    await opened?.destroy();
    opened = undefined;
  });
  return {
    get store(): KyselyStore {
      if (opened === undefined) throw new Error("no store outside a test");
      return opened.store;
    },
  };
}
