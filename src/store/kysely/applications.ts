import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type {
  Application,
  ApplicationPatch,
  ApplicationRepository,
  ApplicationWithSecret,
  NewApplication,
  Page,
  PageRequest,
  Visibility,
} from "../types.js";
import { clampPage, countOf, newId, rethrowUnique, seesNothing } from "./util.js";

const PUBLIC_COLUMNS = [
  "id",
  "name",
  "domain",
  "callback_url",
  "max_users_per_minute",
  "max_joins_per_second",
  "api_key_prefix",
  "publishable_key",
  "origin_policy",
  "frame_ancestors",
  "alert_emails",
  "created_at",
  "updated_at",
] as const;

function emailsOut(stored: string | null): string[] {
  if (stored === null) return [];
  try {
    const parsed: unknown = JSON.parse(stored);
    return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === "string") : [];
  } catch {
    return [];
  }
}

const emailsIn = (emails: readonly string[]): string | null =>
  emails.length === 0 ? null : JSON.stringify(emails);

/** A row with its alert recipients parsed. */
function withEmails<T extends { alert_emails: string | null }>(
  row: T,
): Omit<T, "alert_emails"> & { alert_emails: string[] } {
  return { ...row, alert_emails: emailsOut(row.alert_emails) };
}

function maybe<T extends { alert_emails: string | null }>(row: T | undefined) {
  return row === undefined ? undefined : withEmails(row);
}

export class KyselyApplicationRepository implements ApplicationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(app: NewApplication, now: string): Promise<ApplicationWithSecret> {
    const row = { id: newId(), ...app, created_at: now, updated_at: now, deleted_at: null };
    try {
      await this.db
        .insertInto("applications")
        .values({ ...row, alert_emails: emailsIn(app.alert_emails) })
        .execute();
    } catch (error) {
      rethrowUnique(error, "applications.api_key_hash or publishable_key");
    }
    const { api_key_hash: _hash, deleted_at: _deleted, ...created } = row;
    return created;
  }

  private live() {
    return this.db
      .selectFrom("applications")
      .select([...PUBLIC_COLUMNS, "webhook_secret_enc"])
      .where("deleted_at", "is", null);
  }

  async findById(id: string): Promise<ApplicationWithSecret | undefined> {
    return maybe(await this.live().where("id", "=", id).executeTakeFirst());
  }

  async findByPublishableKey(key: string): Promise<Application | undefined> {
    return maybe(
      await this.db
        .selectFrom("applications")
        .select(PUBLIC_COLUMNS)
        .where("publishable_key", "=", key)
        .where("deleted_at", "is", null)
        .executeTakeFirst(),
    );
  }

  async rotatePublishableKey(id: string, key: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable("applications")
      .set({ publishable_key: key, updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async findByApiKeyHash(hash: string): Promise<ApplicationWithSecret | undefined> {
    return maybe(await this.live().where("api_key_hash", "=", hash).executeTakeFirst());
  }

  async list(visible: Visibility, request: PageRequest): Promise<Page<Application>> {
    if (seesNothing(visible)) return { items: [], total: 0 };
    const page = clampPage(request);
    let query = this.db.selectFrom("applications").where("deleted_at", "is", null);
    if (visible !== "all") query = query.where("id", "in", visible);
    const items = await query
      .select(PUBLIC_COLUMNS)
      .orderBy("created_at")
      .orderBy("id")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll().as("count")).executeTakeFirst();
    return { items: items.map(withEmails), total: countOf(total) };
  }

  async update(id: string, patch: ApplicationPatch, now: string): Promise<Application | undefined> {
    const { alert_emails, ...rest } = patch;
    const result = await this.db
      .updateTable("applications")
      .set({
        ...rest,
        ...(alert_emails === undefined ? {} : { alert_emails: emailsIn(alert_emails) }),
        updated_at: now,
      })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.findById(id);
  }

  async rotateApiKey(id: string, hash: string, prefix: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable("applications")
      .set({ api_key_hash: hash, api_key_prefix: prefix, updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async replaceWebhookSecret(id: string, sealed: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable("applications")
      .set({ webhook_secret_enc: sealed, updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async sealedWebhookSecrets(): Promise<{ id: string; webhook_secret_enc: string }[]> {
    return this.db.selectFrom("applications").select(["id", "webhook_secret_enc"]).orderBy("id").execute();
  }

  async resealWebhookSecret(id: string, from: string, to: string): Promise<boolean> {
    const result = await this.db
      .updateTable("applications")
      .set({ webhook_secret_enc: to })
      .where("id", "=", id)
      .where("webhook_secret_enc", "=", from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async softDelete(id: string, now: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("applications")
        .set({ deleted_at: now, updated_at: now })
        .where("id", "=", id)
        .where("deleted_at", "is", null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await trx
        .updateTable("queues")
        .set({ deleted_at: now, updated_at: now })
        .where("application_id", "=", id)
        .where("deleted_at", "is", null)
        .execute();
      return true;
    });
  }
}
