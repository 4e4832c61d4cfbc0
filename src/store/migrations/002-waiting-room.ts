import { type Kysely, type SqlBool, sql } from "kysely";
import type { MigrationFactory } from "./index.js";

/**
 * Predicates of the three partial indexes on tickets (active visitor, waiting line, released by time).
 * Queries repeat them word for word, as literals: an ON CONFLICT target must, and SQLite only uses a
 * partial index when the query states its predicate.
 */
export const ACTIVE_TICKET_PREDICATE = "status in ('waiting', 'released')";
export const WAITING_TICKET_PREDICATE = "status = 'waiting'";
export const RELEASED_TICKET_PREDICATE = "status = 'released'";

/** Visitors (tickets), release rate state, the callback outbox and dead letters, admission signing keys. */
export const waitingRoom: MigrationFactory = (t) => ({
  async up(db: Kysely<unknown>) {
    const queueColumns: [string, string, string | number | null][] = [
      ["mode", "text", "live"],
      ["release_ttl_seconds", "integer", 600],
      ["abandon_after_seconds", "integer", 300],
      ["admission_ttl_seconds", "integer", 3600],
      ["redirect_url", "text", null],
      ["next_seq", t.bigint, 0],
    ];
    for (const [name, type, fallback] of queueColumns) {
      await db.schema
        .alterTable("queues")
        .addColumn(name, sql.raw(type), (c) => (fallback === null ? c : c.notNull().defaultTo(fallback)))
        .execute();
    }

    await db.schema
      .createTable("tickets")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("queue_id", t.uuid, (c) => c.notNull().references("queues.id"))
      .addColumn("seq", t.bigint, (c) => c.notNull())
      .addColumn("visitor_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("joined_at", t.instant, (c) => c.notNull())
      .addColumn("released_at", t.instant)
      .addColumn("admitted_at", t.instant)
      .addColumn("ended_at", t.instant)
      .addColumn("end_reason", "text")
      .addColumn("access_token", "text")
      .addUniqueConstraint("tickets_queue_seq_key", ["queue_id", "seq"])
      .execute();
    // One active place per visitor per queue; a visitor who cancelled or expired may join again.
    await db.schema
      .createIndex("tickets_active_visitor_key")
      .on("tickets")
      .columns(["queue_id", "visitor_id"])
      .unique()
      .where(sql.raw<SqlBool>(ACTIVE_TICKET_PREDICATE))
      .execute();
    // The line itself: waiting tickets of a queue in ticket order (release picks the front, fallbacks count).
    await db.schema
      .createIndex("tickets_waiting_idx")
      .on("tickets")
      .columns(["queue_id", "seq"])
      .where(sql.raw<SqlBool>(WAITING_TICKET_PREDICATE))
      .execute();
    // Released tickets by release time: expiry of unseen releases and the end of admissions.
    await db.schema
      .createIndex("tickets_released_idx")
      .on("tickets")
      .columns(["queue_id", "released_at"])
      .where(sql.raw<SqlBool>(RELEASED_TICKET_PREDICATE))
      .execute();

    await db.schema
      .createTable("rate_state")
      .addColumn("subject_id", t.uuid, (c) => c.primaryKey())
      .addColumn("tat_ms", t.double, (c) => c.notNull().defaultTo(0))
      // The measured release rate (see domain/estimate.ts), kept with the rate so every worker shares it.
      .addColumn("meter_released", t.double, (c) => c.notNull().defaultTo(0))
      .addColumn("meter_busy_ms", t.double, (c) => c.notNull().defaultTo(0))
      .addColumn("meter_at", t.double)
      .execute();

    await db.schema
      .createTable("callback_outbox")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("application_id", t.uuid, (c) => c.notNull().references("applications.id"))
      .addColumn("queue_id", t.uuid, (c) => c.notNull().references("queues.id"))
      .addColumn("ticket_id", t.uuid, (c) => c.notNull().references("tickets.id"))
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", t.instant, (c) => c.notNull())
      .addColumn("locked_until", t.instant)
      .addColumn("last_error", "text")
      .addColumn("last_status", "integer")
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("delivered_at", t.instant)
      .execute();
    await db.schema
      .createIndex("callback_outbox_due_idx")
      .on("callback_outbox")
      .columns(["status", "next_attempt_at"])
      .execute();

    await db.schema
      .createTable("callback_errors")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("event_id", t.uuid, (c) => c.notNull().references("callback_outbox.id"))
      .addColumn("application_id", t.uuid, (c) => c.notNull().references("applications.id"))
      .addColumn("queue_id", t.uuid, (c) => c.notNull().references("queues.id"))
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("last_error", "text", (c) => c.notNull())
      .addColumn("last_status", "integer")
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("callback_errors_app_idx")
      .on("callback_errors")
      .columns(["application_id", "created_at"])
      .execute();

    await db.schema
      .createTable("signing_keys")
      .addColumn("kid", "text", (c) => c.primaryKey())
      .addColumn("alg", "text", (c) => c.notNull())
      .addColumn("public_jwk", "text", (c) => c.notNull())
      .addColumn("private_jwk_enc", "text", (c) => c.notNull())
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("retired_at", t.instant)
      // Revoked keys (compromised) are no longer published, so tokens they signed stop verifying at once.
      .addColumn("revoked_at", t.instant)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ["signing_keys", "callback_errors", "callback_outbox", "rate_state", "tickets"]) {
      await db.schema.dropTable(table).execute();
    }
    for (const column of [
      "next_seq",
      "redirect_url",
      "admission_ttl_seconds",
      "abandon_after_seconds",
      "release_ttl_seconds",
      "mode",
    ]) {
      await db.schema.alterTable("queues").dropColumn(column).execute();
    }
  },
});
