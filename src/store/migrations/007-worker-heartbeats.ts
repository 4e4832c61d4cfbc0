import { type Kysely, type SqlBool, sql } from "kysely";
import type { MigrationFactory } from "./index.js";

/** Predicate of the per-queue pending-callback index; queries repeat it as a literal (see 005). */
export const QUEUE_PENDING_CALLBACK_PREDICATE = "status = 'pending'";

/**
 * The operator's dashboards: a heartbeat per worker process (so a silent worker is reported down), and
 * the indexes that keep the dashboards' counts bounded by time and by queue rather than scans of tickets:
 * releases by time (every ticket ever released, whatever became of it), endings by time, a queue's pending
 * callbacks and its dead letters.
 */
export const workerHeartbeats: MigrationFactory = (t) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("worker_heartbeats")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("host", "text", (c) => c.notNull())
      .addColumn("pid", "integer", (c) => c.notNull())
      .addColumn("started_at", t.instant, (c) => c.notNull())
      .addColumn("last_seen_at", t.instant, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("worker_heartbeats_seen_idx")
      .on("worker_heartbeats")
      .column("last_seen_at")
      .execute();
    await db.schema
      .createIndex("tickets_released_at_idx")
      .on("tickets")
      .columns(["queue_id", "released_at"])
      .execute();
    await db.schema
      .createIndex("tickets_ended_at_idx")
      .on("tickets")
      .columns(["queue_id", "ended_at"])
      .execute();
    await db.schema
      .createIndex("callback_outbox_queue_pending_idx")
      .on("callback_outbox")
      .column("queue_id")
      .where(sql.raw<SqlBool>(QUEUE_PENDING_CALLBACK_PREDICATE))
      .execute();
    await db.schema
      .createIndex("callback_errors_queue_idx")
      .on("callback_errors")
      .columns(["queue_id", "created_at"])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("callback_errors_queue_idx").execute();
    await db.schema.dropIndex("callback_outbox_queue_pending_idx").execute();
    await db.schema.dropIndex("tickets_ended_at_idx").execute();
    await db.schema.dropIndex("tickets_released_at_idx").execute();
    await db.schema.dropTable("worker_heartbeats").execute();
  },
});
