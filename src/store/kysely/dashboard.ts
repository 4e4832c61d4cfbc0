import { type Kysely, sql } from "kysely";
import { RELEASED_TICKET_PREDICATE, WAITING_TICKET_PREDICATE } from "../migrations/002-waiting-room.js";
import { QUEUE_PENDING_CALLBACK_PREDICATE } from "../migrations/007-worker-heartbeats.js";
import type { Database } from "../schema.js";
import type {
  CountsByQueue,
  DashboardQueue,
  DashboardRepository,
  DeadLetter,
  EndReason,
  Page,
  PageRequest,
  Visibility,
} from "../types.js";
import { clampPage, countOf, inChunks, seesNothing } from "./util.js";

// Literal predicates, so SQLite uses the partial indexes (see the migrations).
const waiting = sql.raw<boolean>(WAITING_TICKET_PREDICATE);
const released = sql.raw<boolean>(RELEASED_TICKET_PREDICATE);
const pendingCallback = sql.raw<boolean>(QUEUE_PENDING_CALLBACK_PREDICATE);

type Grouped = { queue_id: string; count: string | number | bigint };

function byQueue(rows: readonly Grouped[], into: CountsByQueue = new Map()): CountsByQueue {
  for (const row of rows) into.set(row.queue_id, (into.get(row.queue_id) ?? 0) + countOf(row));
  return into;
}

export class KyselyDashboardRepository implements DashboardRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async queues(visible: Visibility, applicationId?: string): Promise<DashboardQueue[]> {
    if (seesNothing(visible)) return [];
    let query = this.db
      .selectFrom("queues")
      .innerJoin("applications", "applications.id", "queues.application_id")
      .select([
        "queues.id",
        "queues.application_id",
        "queues.name",
        "queues.mode",
        "queues.max_users_per_minute",
        "queues.next_seq",
      ])
      .where("queues.deleted_at", "is", null)
      .where("applications.deleted_at", "is", null);
    if (visible !== "all") query = query.where("queues.application_id", "in", visible);
    if (applicationId !== undefined) query = query.where("queues.application_id", "=", applicationId);
    const rows = await query.orderBy("queues.created_at").orderBy("queues.id").execute();
    return rows.map((row) => ({ ...row, next_seq: Number(row.next_seq) }));
  }

  async applicationCount(visible: Visibility): Promise<number> {
    if (seesNothing(visible)) return 0;
    let query = this.db
      .selectFrom("applications")
      .select((eb) => eb.fn.countAll().as("count"))
      .where("deleted_at", "is", null);
    if (visible !== "all") query = query.where("id", "in", visible);
    return countOf(await query.executeTakeFirst());
  }

  async releasedSince(queueIds: readonly string[], since: string): Promise<CountsByQueue> {
    const counts: CountsByQueue = new Map();
    for (const chunk of inChunks(queueIds)) {
      const rows = await this.db
        .selectFrom("tickets")
        .select((eb) => ["queue_id", eb.fn.countAll().as("count")])
        .where("queue_id", "in", chunk)
        .where("released_at", ">=", since)
        .groupBy("queue_id")
        .execute();
      byQueue(rows, counts);
    }
    return counts;
  }

  async expiredSince(
    queueIds: readonly string[],
    since: string,
  ): Promise<Partial<Record<EndReason, number>>> {
    const counts: Partial<Record<EndReason, number>> = {};
    for (const chunk of inChunks(queueIds)) {
      const rows = await this.db
        .selectFrom("tickets")
        .select((eb) => ["end_reason", eb.fn.countAll().as("count")])
        .where("queue_id", "in", chunk)
        .where("ended_at", ">=", since)
        .where("status", "=", "expired")
        .groupBy("end_reason")
        .execute();
      for (const row of rows) {
        if (row.end_reason === null) continue;
        counts[row.end_reason] = (counts[row.end_reason] ?? 0) + countOf(row);
      }
    }
    return counts;
  }

  async activeAdmitted(queueIds: readonly string[]): Promise<CountsByQueue> {
    const counts: CountsByQueue = new Map();
    for (const chunk of inChunks(queueIds)) {
      const rows = await this.db
        .selectFrom("tickets")
        .select((eb) => ["queue_id", eb.fn.countAll().as("count")])
        .where(released)
        .where("queue_id", "in", chunk)
        .groupBy("queue_id")
        .execute();
      byQueue(rows, counts);
    }
    return counts;
  }

  async oldestWaiting(queueIds: readonly string[]): Promise<Map<string, string>> {
    const oldest = new Map<string, string>();
    // The front of each line, off the waiting index (ticket numbers are handed out in join order).
    for (const queueId of queueIds) {
      const row = await this.db
        .selectFrom("tickets")
        .select("joined_at")
        .where(waiting)
        .where("queue_id", "=", queueId)
        .orderBy("seq")
        .limit(1)
        .executeTakeFirst();
      if (row !== undefined) oldest.set(queueId, new Date(row.joined_at).toISOString());
    }
    return oldest;
  }

  async pendingCallbacks(queueIds: readonly string[]): Promise<CountsByQueue> {
    const counts: CountsByQueue = new Map();
    for (const chunk of inChunks(queueIds)) {
      const rows = await this.db
        .selectFrom("callback_outbox")
        .select((eb) => ["queue_id", eb.fn.countAll().as("count")])
        .where(pendingCallback)
        .where("queue_id", "in", chunk)
        .groupBy("queue_id")
        .execute();
      byQueue(rows, counts);
    }
    return counts;
  }

  async deadLetters(queueIds: readonly string[], since?: string): Promise<CountsByQueue> {
    const counts: CountsByQueue = new Map();
    for (const chunk of inChunks(queueIds)) {
      let query = this.db
        .selectFrom("callback_errors")
        .select((eb) => ["queue_id", eb.fn.countAll().as("count")])
        .where("queue_id", "in", chunk);
      if (since !== undefined) query = query.where("created_at", ">=", since);
      byQueue(await query.groupBy("queue_id").execute(), counts);
    }
    return counts;
  }

  async listDeadLetters(
    filter: { visible: Visibility; applicationId?: string },
    page: PageRequest,
  ): Promise<Page<DeadLetter>> {
    if (seesNothing(filter.visible)) return { items: [], total: 0 };
    const { limit, offset } = clampPage(page);
    let base = this.db.selectFrom("callback_errors");
    if (filter.visible !== "all") base = base.where("application_id", "in", filter.visible);
    if (filter.applicationId !== undefined) base = base.where("application_id", "=", filter.applicationId);
    const [items, total] = await Promise.all([
      base.selectAll().orderBy("created_at", "desc").orderBy("id").limit(limit).offset(offset).execute(),
      base.select((eb) => eb.fn.countAll().as("count")).executeTakeFirst(),
    ]);
    return { items, total: countOf(total) };
  }

  async findDeadLetter(id: string): Promise<DeadLetter | undefined> {
    return this.db.selectFrom("callback_errors").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async retryDeadLetter(id: string, now: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const removed = await trx
        .deleteFrom("callback_errors")
        .where("id", "=", id)
        .returning("event_id")
        .executeTakeFirst();
      if (removed === undefined) return false;
      await trx
        .updateTable("callback_outbox")
        .set({
          status: "pending",
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_error: null,
          last_status: null,
        })
        .where("id", "=", removed.event_id)
        .where("status", "=", "dead")
        .execute();
      return true;
    });
  }

  async discardDeadLetter(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom("callback_errors").where("id", "=", id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
