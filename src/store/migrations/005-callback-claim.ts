import { type Kysely, type SqlBool, sql } from "kysely";
import type { MigrationFactory } from "./index.js";

/** Predicate of the claim index; the claim repeats it as a literal, or SQLite would not use the index. */
export const PENDING_CALLBACK_PREDICATE = "status = 'pending'";

/**
 * The fair callback claim numbers each application's due entries oldest first: this index hands them over
 * in that order (no sort) and, with the lease column in it, without reading the table. A claim still
 * reads every due entry once, so a backlog costs in proportion to its size, not to the table's.
 */
export const callbackClaim: MigrationFactory = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex("callback_outbox_claim_idx")
      .on("callback_outbox")
      .columns(["application_id", "next_attempt_at", "id", "locked_until"])
      .where(sql.raw<SqlBool>(PENDING_CALLBACK_PREDICATE))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex("callback_outbox_claim_idx").execute();
  },
});
