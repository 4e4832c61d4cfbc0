import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { SigningKeyRepository, SigningKeyRow } from "../types.js";

export class KyselySigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<SigningKeyRow[]> {
    return this.db.selectFrom("signing_keys").selectAll().orderBy("created_at").orderBy("kid").execute();
  }

  async insert(row: SigningKeyRow): Promise<void> {
    await this.db.insertInto("signing_keys").values(row).execute();
  }

  async retireOthers(kid: string, now: string, revoke: boolean): Promise<void> {
    await this.db
      .updateTable("signing_keys")
      .set({ retired_at: now })
      .where("kid", "!=", kid)
      .where("retired_at", "is", null)
      .execute();
    if (revoke) {
      await this.db
        .updateTable("signing_keys")
        .set({ revoked_at: now })
        .where("kid", "!=", kid)
        .where("revoked_at", "is", null)
        .execute();
    }
  }
}
