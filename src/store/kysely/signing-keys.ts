import type { ExpressionBuilder, Kysely } from "kysely";
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

  async reseal(kid: string, from: string, to: string): Promise<boolean> {
    const result = await this.db
      .updateTable("signing_keys")
      .set({ private_jwk_enc: to })
      .where("kid", "=", kid)
      .where("private_jwk_enc", "=", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async retireOlder(key: { kid: string; created_at: string }, now: string, revoke: boolean): Promise<void> {
    // Only keys listed before this one (created_at, then kid): two processes rotating at once each
    // retire the older key, never both each other's.
    const older = (eb: ExpressionBuilder<Database, "signing_keys">) =>
      eb.or([
        eb("created_at", "<", key.created_at),
        eb.and([eb("created_at", "=", key.created_at), eb("kid", "<", key.kid)]),
      ]);
    await this.db
      .updateTable("signing_keys")
      .set({ retired_at: now })
      .where(older)
      .where("retired_at", "is", null)
      .execute();
    if (revoke) {
      await this.db
        .updateTable("signing_keys")
        .set({ revoked_at: now })
        .where(older)
        .where("revoked_at", "is", null)
        .execute();
    }
  }
}
