import { type Kysely, type SqlBool, sql } from "kysely";
import type { MigrationFactory } from "./index.js";

/** Predicates of the partial indexes; queries repeat them as literals, or SQLite would not use the index. */
export const FIRING_ALERT_PREDICATE = "state = 'firing'";
export const PENDING_NOTIFICATION_PREDICATE = "status = 'pending'";

/**
 * Alerts and their notifications. One firing alert per kind and subject (a unique partial index), so any
 * number of workers raising the same alert at once record it once; each transition writes one notification
 * per channel in the same transaction, which one worker at a time claims with a lease (as callbacks are).
 * Queues get their own alert threshold, applications their own alert recipients (a JSON list).
 */
export const alerts: MigrationFactory = (t) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("alerts")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("application_id", t.uuid)
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("fired_at", t.instant, (c) => c.notNull())
      .addColumn("resolved_at", t.instant)
      .addColumn("last_notified_at", t.instant)
      .addColumn("details", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("alerts_one_firing_key")
      .on("alerts")
      .columns(["kind", "subject"])
      .unique()
      .where(sql.raw<SqlBool>(FIRING_ALERT_PREDICATE))
      .execute();
    await db.schema
      .createIndex("alerts_key_idx")
      .on("alerts")
      .columns(["kind", "subject", "fired_at"])
      .execute();
    await db.schema.createIndex("alerts_history_idx").on("alerts").columns(["fired_at", "id"]).execute();

    await db.schema
      .createTable("alert_notifications")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("alert_id", t.uuid, (c) => c.notNull().references("alerts.id").onDelete("cascade"))
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("channel", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("next_attempt_at", t.instant, (c) => c.notNull())
      .addColumn("locked_until", t.instant)
      .addColumn("last_error", "text")
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("sent_at", t.instant)
      .execute();
    await db.schema
      .createIndex("alert_notifications_claim_idx")
      .on("alert_notifications")
      .columns(["next_attempt_at", "id"])
      .where(sql.raw<SqlBool>(PENDING_NOTIFICATION_PREDICATE))
      .execute();

    await db.schema.alterTable("queues").addColumn("alert_threshold", "integer").execute();
    await db.schema.alterTable("applications").addColumn("alert_emails", "text").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("applications").dropColumn("alert_emails").execute();
    await db.schema.alterTable("queues").dropColumn("alert_threshold").execute();
    await db.schema.dropTable("alert_notifications").execute();
    await db.schema.dropTable("alerts").execute();
  },
});
