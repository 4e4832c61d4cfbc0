import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KyselyStore } from "../../src/store/kysely/store.js";
import { openPostgresStore } from "../../src/store/postgres.js";
import { adminQuery, postgresForTests } from "../helpers/postgres.js";

/**
 * The record's connections are bounded by the server itself (production project only): a worker cut off
 * inside a transaction loses its session, and with it its row locks, within the idle-in-transaction
 * timeout, instead of holding an application's releases until TCP gives up.
 */
let url: string;
const schema = `t_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
const stores: KyselyStore[] = [];
function open(options: Parameters<typeof openPostgresStore>[1] = {}): KyselyStore {
  const store = openPostgresStore(url, { schema, poolSize: 2, ...options });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  const found = await postgresForTests();
  if (found === undefined) throw new Error("postgres unavailable");
  url = found;
  await adminQuery(url, `create schema ${schema}`);
  await open().migrate();
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await adminQuery(url, `drop schema ${schema} cascade`);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lockedBySomeoneElse(store: KyselyStore, subject: string): Promise<boolean> {
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("rate_state")
      .select("subject_id")
      .where("subject_id", "=", subject)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    return row === undefined;
  });
}

describe("PostgreSQL sessions", () => {
  it("end when left idle inside a transaction, releasing the row locks they held", async () => {
    const subject = randomUUID();
    const other = open();
    await other.db
      .insertInto("rate_state")
      .values({ subject_id: subject, tat_ms: 0, meter_released: 0, meter_busy_ms: 0, meter_at: null })
      .execute();
    const partitioned = open({ idleInTransactionTimeoutMs: 500 });
    let release = () => {};
    const stuck = partitioned.db.transaction().execute(async (trx) => {
      await trx.selectFrom("rate_state").selectAll().where("subject_id", "=", subject).forUpdate().execute();
      await new Promise<void>((resolve) => {
        release = resolve; // the worker never comes back to this transaction
      });
    });
    stuck.catch(() => {}); // its session is ended under it: the commit fails, as it should
    await sleep(100);
    expect(await lockedBySomeoneElse(other, subject)).toBe(true);
    await sleep(1_500);
    expect(await lockedBySomeoneElse(other, subject)).toBe(false);
    release();
    await expect(stuck).rejects.toThrow();
  });

  it("start with bounded statements and server-side keepalives", async () => {
    const store = open();
    const settings = await sql<{ name: string; setting: string }>`
      select name, setting from pg_settings where name in
        ('statement_timeout', 'idle_in_transaction_session_timeout', 'tcp_keepalives_idle')`.execute(
      store.db,
    );
    const byName = Object.fromEntries(settings.rows.map((row) => [row.name, Number(row.setting)]));
    expect(byName.statement_timeout).toBeGreaterThan(0);
    expect(byName.idle_in_transaction_session_timeout).toBeGreaterThan(0);
    // Over a Unix socket keepalives do not apply (0); over TCP they are set.
    expect([0, 10]).toContain(byName.tcp_keepalives_idle);
  });
});
