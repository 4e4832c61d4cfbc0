import type { Kysely } from "kysely";
import type { MigrationFactory } from "./index.js";

export const initial: MigrationFactory = (t) => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("users")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("email", "text", (c) => c.notNull().unique())
      .addColumn("password_hash", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("updated_at", t.instant, (c) => c.notNull())
      .addColumn("disabled_at", t.instant)
      // Bearer tokens issued before this are refused (set when the password changes).
      .addColumn("sessions_valid_from", t.instant)
      .execute();

    await db.schema
      .createTable("applications")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("domain", "text", (c) => c.notNull())
      .addColumn("callback_url", "text", (c) => c.notNull())
      .addColumn("api_key_hash", "text", (c) => c.notNull().unique())
      .addColumn("api_key_prefix", "text", (c) => c.notNull())
      .addColumn("webhook_secret_enc", "text", (c) => c.notNull())
      .addColumn("max_users_per_minute", "integer")
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("updated_at", t.instant, (c) => c.notNull())
      .addColumn("deleted_at", t.instant)
      .execute();

    await db.schema
      .createTable("user_grants")
      .addColumn("user_id", t.uuid, (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("application_id", t.uuid, (c) =>
        c.notNull().references("applications.id").onDelete("cascade"),
      )
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addPrimaryKeyConstraint("user_grants_pk", ["user_id", "application_id"])
      .execute();

    await db.schema
      .createTable("queues")
      .addColumn("id", t.uuid, (c) => c.primaryKey())
      .addColumn("application_id", t.uuid, (c) => c.notNull().references("applications.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("max_users_per_minute", "integer", (c) => c.notNull())
      .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", t.instant, (c) => c.notNull())
      .addColumn("updated_at", t.instant, (c) => c.notNull())
      .addColumn("deleted_at", t.instant)
      .execute();
    await db.schema.createIndex("queues_application_idx").on("queues").column("application_id").execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ["queues", "user_grants", "applications", "users"]) {
      await db.schema.dropTable(table).execute();
    }
  },
});
