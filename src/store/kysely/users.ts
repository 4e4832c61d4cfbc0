import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type {
  NewUser,
  Page,
  PageRequest,
  User,
  UserPatch,
  UserRepository,
  UserWithSecret,
} from "../types.js";
import { clampPage, countOf, newId, rethrowUnique } from "./util.js";

const USER_COLUMNS = [
  "id",
  "email",
  "role",
  "created_at",
  "updated_at",
  "disabled_at",
  "sessions_valid_from",
] as const;

export class KyselyUserRepository implements UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(user: NewUser, now: string): Promise<User> {
    const row = {
      id: newId(),
      ...user,
      created_at: now,
      updated_at: now,
      disabled_at: null,
      sessions_valid_from: null,
    };
    try {
      await this.db.insertInto("users").values(row).execute();
    } catch (error) {
      rethrowUnique(error, "users.email");
    }
    const { password_hash: _hash, ...created } = row;
    return created;
  }

  async findById(id: string): Promise<User | undefined> {
    return this.db.selectFrom("users").select(USER_COLUMNS).where("id", "=", id).executeTakeFirst();
  }

  async findByEmail(email: string): Promise<UserWithSecret | undefined> {
    return this.db.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
  }

  async list(request: PageRequest): Promise<Page<User>> {
    const page = clampPage(request);
    const items = await this.db
      .selectFrom("users")
      .select(USER_COLUMNS)
      .orderBy("created_at")
      .orderBy("id")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const total = await this.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll().as("count"))
      .executeTakeFirst();
    return { items, total: countOf(total) };
  }

  async update(id: string, patch: UserPatch, now: string): Promise<User | undefined> {
    await this.db
      .updateTable("users")
      .set({ ...patch, updated_at: now })
      .where("id", "=", id)
      .execute();
    return this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("user_grants").where("user_id", "=", id).execute();
      const result = await trx.deleteFrom("users").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async grants(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom("user_grants")
      .innerJoin("applications", "applications.id", "user_grants.application_id")
      .select("user_grants.application_id")
      .where("user_grants.user_id", "=", userId)
      .where("applications.deleted_at", "is", null)
      .orderBy("user_grants.created_at")
      .execute();
    return rows.map((row) => row.application_id);
  }

  async grant(userId: string, applicationId: string, now: string): Promise<void> {
    await this.db
      .insertInto("user_grants")
      .values({ user_id: userId, application_id: applicationId, created_at: now })
      .onConflict((oc) => oc.columns(["user_id", "application_id"]).doNothing())
      .execute();
  }

  async revoke(userId: string, applicationId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("user_grants")
      .where("user_id", "=", userId)
      .where("application_id", "=", applicationId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
