import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import { PENDING_CALLBACK_PREDICATE } from "../migrations/005-callback-claim.js";
import type { Database } from "../schema.js";
import type {
  CallbackError,
  ClaimShare,
  Dialect,
  OutboxEntry,
  OutboxRepository,
  Visibility,
} from "../types.js";
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

const pending = sql.raw<boolean>(PENDING_CALLBACK_PREDICATE);

export class KyselyOutboxRepository implements OutboxRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async claimDue(now: string, leaseUntil: string, limit: number, share?: ClaimShare): Promise<OutboxEntry[]> {
    if (limit <= 0) return [];
    const perApplication = share?.perApplication ?? limit;
    const inFlight = [...(share?.inFlight ?? new Map<string, number>())].filter(([, n]) => n > 0);
    const full = inFlight.filter(([, n]) => n >= perApplication).map(([id]) => id);
    const partly = inFlight.filter(([, n]) => n < perApplication);
    const claimable = (eb: ExpressionBuilder<Database, "callback_outbox">) =>
      eb.and([
        pending,
        eb("next_attempt_at", "<=", now),
        eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]),
      ]);
    // Each application's due entries numbered oldest first; an application may take as many as it has
    // free slots, and the limit goes to first entries of every application before second ones.
    const ranked = this.db
      .selectFrom("callback_outbox")
      .select((eb) => [
        "id",
        "application_id",
        "next_attempt_at",
        eb.fn
          .agg<number>("row_number")
          .over((ob) => ob.partitionBy("application_id").orderBy("next_attempt_at").orderBy("id"))
          .as("nth"),
      ])
      .where(claimable)
      .$if(full.length > 0, (q) => q.where("application_id", "not in", full))
      .as("ranked");
    const picked = this.db
      .selectFrom(ranked)
      .select("ranked.id")
      .where((eb) => {
        const [first, ...rest] = partly;
        if (first === undefined) return eb("ranked.nth", "<=", eb.lit(perApplication));
        // Literal numbers: PostgreSQL would type bare CASE parameters as text.
        const slots = (busy: number) => eb.lit<number>(perApplication - busy);
        let free = eb.case("ranked.application_id").when(first[0]).then(slots(first[1]));
        for (const [id, busy] of rest) free = free.when(id).then(slots(busy));
        return eb("ranked.nth", "<=", free.else(slots(0)).end());
      })
      .orderBy("ranked.nth")
      .orderBy("ranked.next_attempt_at")
      .orderBy("ranked.id")
      .limit(limit);
    // PostgreSQL allows no FOR UPDATE beside a window function, hence a second level there: it locks the
    // picked rows, skipping any another worker is claiming right now, and re-checks that each is still
    // claimable (a row another worker claimed since our snapshot is re-read and left out). In SQLite the
    // statement runs under its one writer lock: what it picks is still claimable when it updates.
    const claimed =
      this.dialect === "postgres"
        ? this.db
            .selectFrom("callback_outbox")
            .select("id")
            .where("id", "in", picked)
            .where(claimable)
            .forUpdate()
            .skipLocked()
        : picked;
    return this.db
      .updateTable("callback_outbox")
      .set({ locked_until: leaseUntil })
      .where("id", "in", claimed)
      .returning(COLUMNS)
      .execute();
  }

  async markDelivered(
    id: string,
    lease: string,
    attempts: number,
    status: number,
    now: string,
    durationMs?: number,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("callback_outbox")
      .set({
        status: "delivered",
        duration_ms: durationMs === undefined ? null : Math.round(durationMs),
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
}
