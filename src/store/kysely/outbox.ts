import type { Kysely } from "kysely";
import type { Database } from "../schema.js";
import type { CallbackError, Dialect, OutboxEntry, OutboxRepository, Visibility } from "../types.js";
import { newId, seesNothing } from "./util.js";

const COLUMNS = [
  "id",
  "application_id",
  "queue_id",
  "ticket_id",
  "event",
  "payload",
  "status",
  "attempts",
  "next_attempt_at",
  "last_error",
  "last_status",
  "created_at",
  "delivered_at",
] as const;

export class KyselyOutboxRepository implements OutboxRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async claimDue(now: string, leaseUntil: string, limit: number): Promise<OutboxEntry[]> {
    const postgres = this.dialect === "postgres";
    return this.db
      .updateTable("callback_outbox")
      .set({ locked_until: leaseUntil })
      .where("id", "in", (eb) =>
        eb
          .selectFrom("callback_outbox")
          .select("id")
          .where("status", "=", "pending")
          .where("next_attempt_at", "<=", now)
          .where((w) => w.or([w("locked_until", "is", null), w("locked_until", "<=", now)]))
          .orderBy("next_attempt_at")
          .limit(limit)
          .$if(postgres, (q) => q.forUpdate().skipLocked()),
      )
      .returning(COLUMNS)
      .execute();
  }

  async markDelivered(
    id: string,
    lease: string,
    attempts: number,
    status: number,
    now: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("callback_outbox")
      .set({
        status: "delivered",
        attempts,
        last_status: status,
        delivered_at: now,
        locked_until: null,
        last_error: null,
      })
      .where("id", "=", id)
      .where("locked_until", "=", lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async scheduleRetry(
    id: string,
    lease: string,
    attempts: number,
    nextAttemptAt: string,
    error: string,
    status: number | null,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("callback_outbox")
      .set({
        attempts,
        next_attempt_at: nextAttemptAt,
        last_error: error,
        last_status: status,
        locked_until: null,
      })
      .where("id", "=", id)
      .where("locked_until", "=", lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async markDead(
    entry: OutboxEntry,
    lease: string,
    attempts: number,
    url: string,
    error: string,
    status: number | null,
    now: string,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("callback_outbox")
        .set({ status: "dead", attempts, last_error: error, last_status: status, locked_until: null })
        .where("id", "=", entry.id)
        .where("locked_until", "=", lease)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await trx
        .insertInto("callback_errors")
        .values({
          id: newId(),
          event_id: entry.id,
          application_id: entry.application_id,
          queue_id: entry.queue_id,
          url,
          attempts,
          last_error: error,
          last_status: status,
          created_at: now,
        })
        .execute();
      return true;
    });
  }

  async forQueue(queueId: string): Promise<OutboxEntry[]> {
    return this.db
      .selectFrom("callback_outbox")
      .select(COLUMNS)
      .where("queue_id", "=", queueId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
  }

  async errors(filter: { applicationIds: Visibility; limit: number }): Promise<CallbackError[]> {
    if (seesNothing(filter.applicationIds)) return [];
    let query = this.db.selectFrom("callback_errors").selectAll();
    if (filter.applicationIds !== "all") query = query.where("application_id", "in", filter.applicationIds);
    return query.orderBy("created_at", "desc").limit(filter.limit).execute();
  }

  async nextDueAt(): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("callback_outbox")
      .select("next_attempt_at")
      .where("status", "=", "pending")
      .orderBy("next_attempt_at")
      .limit(1)
      .executeTakeFirst();
    return row?.next_attempt_at;
  }
}
