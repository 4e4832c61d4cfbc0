import type { Kysely } from "kysely";
import type { PageSettings } from "../../domain/model.js";
import type { Database } from "../schema.js";
import type {
  ActiveQueue,
  NewQueue,
  Page,
  PageRequest,
  Queue,
  QueueFilter,
  QueuePatch,
  QueueRepository,
} from "../types.js";
import { clampPage, countOf, newId, seesNothing } from "./util.js";

function serialize(page: PageSettings | null): string | null {
  return page === null ? null : JSON.stringify(page);
}

/** A row's page settings as the rest of the code sees them: parsed, null when unset or unreadable. */
function withPage<T extends { page_settings: string | null }>(
  row: T,
): Omit<T, "page_settings"> & {
  page: PageSettings | null;
} {
  const { page_settings, ...rest } = row;
  let page: PageSettings | null = null;
  if (page_settings !== null) {
    try {
      page = JSON.parse(page_settings) as PageSettings;
    } catch {
      page = null;
    }
  }
  return { ...rest, page };
}

const COLUMNS = [
  "queues.id",
  "queues.application_id",
  "queues.name",
  "queues.max_users_per_minute",
  "queues.priority",
  "queues.mode",
  "queues.release_ttl_seconds",
  "queues.abandon_after_seconds",
  "queues.admission_ttl_seconds",
  "queues.redirect_url",
  "queues.page_settings",
  "queues.alert_threshold",
  "queues.created_at",
  "queues.updated_at",
] as const;

export class KyselyQueueRepository implements QueueRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(queue: NewQueue, now: string): Promise<Queue> {
    const { page, ...settings } = queue;
    const row = { id: newId(), ...settings, created_at: now, updated_at: now };
    await this.db
      .insertInto("queues")
      .values({ ...row, page_settings: serialize(page), next_seq: 0, deleted_at: null })
      .execute();
    return { ...row, page };
  }

  /** Live queues whose application is live too: a deleted application takes its queues with it. */
  private live() {
    return this.db
      .selectFrom("queues")
      .innerJoin("applications", "applications.id", "queues.application_id")
      .where("queues.deleted_at", "is", null)
      .where("applications.deleted_at", "is", null);
  }

  private activeColumns() {
    return this.live().select([
      ...COLUMNS,
      "applications.max_users_per_minute as application_rate",
      "applications.domain as application_domain",
      "applications.origin_policy as application_origin_policy",
      "applications.frame_ancestors as application_frame_ancestors",
    ]);
  }

  async active(): Promise<ActiveQueue[]> {
    const rows = await this.activeColumns().orderBy("queues.created_at").orderBy("queues.id").execute();
    return rows.map(withPage);
  }

  async findActive(id: string): Promise<ActiveQueue | undefined> {
    const row = await this.activeColumns().where("queues.id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : withPage(row);
  }

  async findById(id: string): Promise<Queue | undefined> {
    const row = await this.live().select(COLUMNS).where("queues.id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : withPage(row);
  }

  async list(filter: QueueFilter, request: PageRequest): Promise<Page<Queue>> {
    if (seesNothing(filter.visible)) return { items: [], total: 0 };
    const page = clampPage(request);
    let query = this.live();
    if (filter.visible !== "all") query = query.where("queues.application_id", "in", filter.visible);
    if (filter.applicationId !== undefined)
      query = query.where("queues.application_id", "=", filter.applicationId);
    const items = await query
      .select(COLUMNS)
      .orderBy("queues.created_at")
      .orderBy("queues.id")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const total = await query.select((eb) => eb.fn.countAll().as("count")).executeTakeFirst();
    return { items: items.map(withPage), total: countOf(total) };
  }

  async update(id: string, patch: QueuePatch, now: string): Promise<Queue | undefined> {
    const { page, ...settings } = patch;
    const result = await this.db
      .updateTable("queues")
      .set({
        ...settings,
        ...(page === undefined ? {} : { page_settings: serialize(page) }),
        updated_at: now,
      })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.findById(id);
  }

  async softDelete(id: string, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable("queues")
      .set({ deleted_at: now, updated_at: now })
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
