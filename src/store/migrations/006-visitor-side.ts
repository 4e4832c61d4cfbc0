import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { MigrationFactory } from "./index.js";

/**
 * The visitor's side: an application's publishable key (safe in a page), which origins may use it, and
 * who may frame its waiting page; a queue's waiting-page settings; a ticket's browser (the hash of the
 * device secret a page joined with) and where to send its visitor when released.
 */
export const visitorSide: MigrationFactory = (types) => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("applications").addColumn("publishable_key", "text").execute();
    await db.schema
      .alterTable("applications")
      .addColumn("origin_policy", "text", (column) => column.notNull().defaultTo("domain"))
      .execute();
    await db.schema.alterTable("applications").addColumn("frame_ancestors", "text").execute();
    // Existing applications get a publishable key each, as new ones do.
    const apps = await (db as Kysely<{ applications: { id: string; publishable_key: string | null } }>)
      .selectFrom("applications")
      .select("id")
      .execute();
    for (const app of apps) {
      await (db as Kysely<{ applications: { id: string; publishable_key: string | null } }>)
        .updateTable("applications")
        .set({ publishable_key: `pk_${randomBytes(18).toString("base64url")}` })
        .where("id", "=", app.id)
        .execute();
    }
    await db.schema
      .createIndex("applications_publishable_key")
      .on("applications")
      .column("publishable_key")
      .unique()
      .execute();
    await db.schema.alterTable("queues").addColumn("page_settings", "text").execute();
    await db.schema.alterTable("tickets").addColumn("device_hash", "text").execute();
    await db.schema.alterTable("tickets").addColumn("return_to", "text").execute();
    void types;
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("tickets").dropColumn("return_to").execute();
    await db.schema.alterTable("tickets").dropColumn("device_hash").execute();
    await db.schema.alterTable("queues").dropColumn("page_settings").execute();
    await db.schema.dropIndex("applications_publishable_key").execute();
    await db.schema.alterTable("applications").dropColumn("frame_ancestors").execute();
    await db.schema.alterTable("applications").dropColumn("origin_policy").execute();
    await db.schema.alterTable("applications").dropColumn("publishable_key").execute();
  },
});
