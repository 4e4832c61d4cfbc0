import type { Kysely } from "kysely";
import type { MigrationFactory } from "./index.js";

/** An application's own join limit (joins a second); null means the deployment's default. */
export const joinLimit: MigrationFactory = () => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("applications").addColumn("max_joins_per_second", "integer").execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("applications").dropColumn("max_joins_per_second").execute();
  },
});
