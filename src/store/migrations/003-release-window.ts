import type { Kysely } from "kysely";
import type { MigrationFactory } from "./index.js";

/**
 * Recent releases kept with each rate, so a late worker can make up missed slots while no 60 s window
 * exceeds rate + 1 (domain/gcra.ts). JSON text; null on existing rows reads as nothing recorded yet, and
 * nothing is made up until a minute has been.
 */
export const releaseWindow: MigrationFactory = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("rate_state").addColumn("release_window", "text").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("rate_state").dropColumn("release_window").execute();
  },
});
