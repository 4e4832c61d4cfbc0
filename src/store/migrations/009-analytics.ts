import type { Kysely } from "kysely";
import type { MigrationFactory } from "./index.js";

const COUNT_COLUMNS = [
  "joins",
  "releases",
  "cancels",
  "abandoned",
  "not_seen",
  "admission_ended",
  "callbacks_delivered",
  "callbacks_failed",
  "peak_waiting",
] as const;

/**
 * Analytics: per queue and per application (`level`; `subject_id` is the queue's or the application's id),
 * per hour and per UTC day (`span`), counts and mergeable histograms (domain/histogram.ts) the worker rolls
 * up from the record, so analytics never read tickets (and a question about an application by day reads a
 * row a day, not one per queue and hour); a cursor per queue says how far the rollup got (a time
 * for releases, endings and callbacks, a ticket number for joins). Callbacks keep how long their successful
 * attempt took. Indexes for the rollup's reads (delivered callbacks by time) and for pruning old tickets
 * with their callbacks and dead letters (RETENTION_DAYS).
 */
export const analytics: MigrationFactory = (t) => ({
  async up(db: Kysely<unknown>) {
    let rollups = db.schema
      .createTable("queue_rollups")
      .addColumn("subject_id", t.uuid, (c) => c.notNull())
      .addColumn("level", "text", (c) => c.notNull())
      .addColumn("application_id", t.uuid, (c) => c.notNull())
      .addColumn("span", "text", (c) => c.notNull())
      .addColumn("period_start", t.instant, (c) => c.notNull());
    for (const column of COUNT_COLUMNS) {
      rollups = rollups.addColumn(column, "integer", (c) => c.notNull().defaultTo(0));
    }
    await rollups
      .addColumn("wait_hist", "text", (c) => c.notNull().defaultTo(""))
      .addColumn("callback_hist", "text", (c) => c.notNull().defaultTo(""))
      .addPrimaryKeyConstraint("queue_rollups_pkey", ["subject_id", "span", "period_start"])
      .execute();
    await db.schema
      .createIndex("queue_rollups_app_idx")
      .on("queue_rollups")
      .columns(["application_id", "level", "span", "period_start"])
      .execute();

    await db.schema
      .createTable("rollup_cursors")
      .addColumn("queue_id", t.uuid, (c) => c.primaryKey())
      .addColumn("rolled_until", t.instant, (c) => c.notNull())
      .addColumn("rolled_seq", t.bigint, (c) => c.notNull())
      .execute();

    await db.schema.alterTable("callback_outbox").addColumn("duration_ms", "integer").execute();
    await db.schema
      .createIndex("callback_outbox_delivered_idx")
      .on("callback_outbox")
      .columns(["queue_id", "delivered_at"])
      .execute();
    await db.schema
      .createIndex("callback_outbox_ticket_idx")
      .on("callback_outbox")
      .column("ticket_id")
      .execute();
    await db.schema
      .createIndex("callback_errors_event_idx")
      .on("callback_errors")
      .column("event_id")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("callback_errors_event_idx").execute();
    await db.schema.dropIndex("callback_outbox_ticket_idx").execute();
    await db.schema.dropIndex("callback_outbox_delivered_idx").execute();
    await db.schema.alterTable("callback_outbox").dropColumn("duration_ms").execute();
    await db.schema.dropTable("rollup_cursors").execute();
    await db.schema.dropTable("queue_rollups").execute();
  },
});
