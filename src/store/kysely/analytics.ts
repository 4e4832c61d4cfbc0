import type { Kysely, Transaction } from "kysely";
import {
  addRollup,
  COUNT_KEYS,
  type CountKey,
  dayOf,
  emptyHour,
  type HourCounts,
  rollUp,
  zeroCounts,
} from "../../domain/analytics.js";
import { Histogram } from "../../domain/histogram.js";
import { iso } from "../../domain/time.js";
import type { Database } from "../schema.js";
import type {
  AnalyticsRepository,
  Dialect,
  RollupProgress,
  RollupQueue,
  RollupRow,
  RollupSpan,
  RollupSubject,
  Visibility,
} from "../types.js";
import { inChunks, seesNothing } from "./util.js";

const COUNTS = COUNT_KEYS;

const EMPTY_COUNTS = zeroCounts();

function toCounts(row: Pick<RollupRow, CountKey | "wait_hist" | "callback_hist">): HourCounts {
  return {
    joins: row.joins,
    releases: row.releases,
    cancels: row.cancels,
    abandoned: row.abandoned,
    not_seen: row.not_seen,
    admission_ended: row.admission_ended,
    callbacks_delivered: row.callbacks_delivered,
    callbacks_failed: row.callbacks_failed,
    wait: Histogram.decode(row.wait_hist),
    callbackDuration: Histogram.decode(row.callback_hist),
  };
}

export class KyselyAnalyticsRepository implements AnalyticsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  advance(
    queue: RollupQueue,
    until: string,
    options: { stepMs: number; maxJoins: number },
  ): Promise<RollupProgress> {
    return this.db.transaction().execute(async (trx) => {
      const cursor = await this.lockCursor(trx, queue.id);
      if (cursor === undefined) {
        // Another worker holds this queue's cursor: it is counting these events right now.
        return { rolled_until: until, rolled_seq: 0, events: 0, caught_up: true };
      }
      const from = cursor.rolled_until;
      // A step covers stepMs from the first event on (a quiet stretch is skipped in one step).
      const next = await this.firstEventAt(trx, queue.id, from, until);
      const stepEnd =
        next === undefined ? Date.parse(until) : Math.min(Date.parse(until), next + options.stepMs);
      const to = iso(Math.max(Date.parse(from), stepEnd));
      const [joins, releases, ends, deliveries, deadLetters] = await Promise.all([
        trx
          .selectFrom("tickets")
          .select(["seq", "joined_at"])
          .where("queue_id", "=", queue.id)
          .where("seq", ">", cursor.rolled_seq)
          .orderBy("seq")
          .limit(options.maxJoins)
          .execute(),
        trx
          .selectFrom("tickets")
          .select(["joined_at", "released_at"])
          .where("queue_id", "=", queue.id)
          .where("released_at", ">=", from)
          .where("released_at", "<", to)
          .execute(),
        trx
          .selectFrom("tickets")
          .select(["ended_at", "end_reason"])
          .where("queue_id", "=", queue.id)
          .where("ended_at", ">=", from)
          .where("ended_at", "<", to)
          .execute(),
        trx
          .selectFrom("callback_outbox")
          .select(["delivered_at", "duration_ms"])
          .where("queue_id", "=", queue.id)
          .where("delivered_at", ">=", from)
          .where("delivered_at", "<", to)
          .where("status", "=", "delivered")
          .execute(),
        trx
          .selectFrom("callback_errors")
          .select("created_at")
          .where("queue_id", "=", queue.id)
          .where("created_at", ">=", from)
          .where("created_at", "<", to)
          .execute(),
      ]);
      const deltas = rollUp({
        joins: joins.map((row) => row.joined_at),
        releases: releases.flatMap((row) =>
          row.released_at === null ? [] : [{ joined_at: row.joined_at, released_at: row.released_at }],
        ),
        ends: ends.flatMap((row) =>
          row.ended_at === null ? [] : [{ ended_at: row.ended_at, end_reason: row.end_reason }],
        ),
        deliveries: deliveries.flatMap((row) =>
          row.delivered_at === null ? [] : [{ delivered_at: row.delivered_at, duration_ms: row.duration_ms }],
        ),
        deadLetters: deadLetters.map((row) => row.created_at),
      });
      await this.addHours(trx, queue, deltas);
      const lastJoin = joins.at(-1);
      const rolledSeq = lastJoin === undefined ? cursor.rolled_seq : Number(lastJoin.seq);
      await trx
        .updateTable("rollup_cursors")
        .set({ rolled_until: to, rolled_seq: rolledSeq })
        .where("queue_id", "=", queue.id)
        .execute();
      const events = joins.length + releases.length + ends.length + deliveries.length + deadLetters.length;
      return {
        rolled_until: to,
        rolled_seq: rolledSeq,
        events,
        caught_up: Date.parse(to) >= Date.parse(until) && joins.length < options.maxJoins,
      };
    });
  }

  /** When the queue's first release, ending, delivery or dead letter in [from, until) happened, if any. */
  private async firstEventAt(
    trx: Transaction<Database>,
    queueId: string,
    from: string,
    until: string,
  ): Promise<number | undefined> {
    const firsts = await Promise.all([
      trx
        .selectFrom("tickets")
        .select((eb) => eb.fn.min("released_at").as("first"))
        .where("queue_id", "=", queueId)
        .where("released_at", ">=", from)
        .where("released_at", "<", until)
        .executeTakeFirst(),
      trx
        .selectFrom("tickets")
        .select((eb) => eb.fn.min("ended_at").as("first"))
        .where("queue_id", "=", queueId)
        .where("ended_at", ">=", from)
        .where("ended_at", "<", until)
        .executeTakeFirst(),
      trx
        .selectFrom("callback_outbox")
        .select((eb) => eb.fn.min("delivered_at").as("first"))
        .where("queue_id", "=", queueId)
        .where("delivered_at", ">=", from)
        .where("delivered_at", "<", until)
        .executeTakeFirst(),
      trx
        .selectFrom("callback_errors")
        .select((eb) => eb.fn.min("created_at").as("first"))
        .where("queue_id", "=", queueId)
        .where("created_at", ">=", from)
        .where("created_at", "<", until)
        .executeTakeFirst(),
    ]);
    const times = firsts.flatMap((row) => (row?.first == null ? [] : [Date.parse(String(row.first))]));
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** The queue's cursor, locked for this transaction (made at the queue's creation if it has none). */
  private async lockCursor(
    trx: Transaction<Database>,
    queueId: string,
  ): Promise<{ rolled_until: string; rolled_seq: number } | undefined> {
    const existing = await this.selectCursor(trx, queueId);
    if (existing !== undefined) return existing;
    const queue = await trx
      .selectFrom("queues")
      .select("created_at")
      .where("id", "=", queueId)
      .executeTakeFirst();
    if (queue === undefined) throw new Error(`no queue ${queueId}`);
    await trx
      .insertInto("rollup_cursors")
      .values({ queue_id: queueId, rolled_until: queue.created_at, rolled_seq: 0 })
      .onConflict((oc) => oc.column("queue_id").doNothing())
      .execute();
    return this.selectCursor(trx, queueId);
  }

  private async selectCursor(
    trx: Transaction<Database>,
    queueId: string,
  ): Promise<{ rolled_until: string; rolled_seq: number } | undefined> {
    const row = await trx
      .selectFrom("rollup_cursors")
      .select(["rolled_until", "rolled_seq"])
      .where("queue_id", "=", queueId)
      .$if(this.dialect === "postgres", (q) => q.forUpdate().skipLocked())
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { rolled_until: row.rolled_until, rolled_seq: Number(row.rolled_seq) };
  }

  /**
   * Adds per-hour deltas to the queue's stored hours, and their sums per UTC day to its stored days; the
   * same to its application's hours and days.
   */
  private async addHours(
    trx: Transaction<Database>,
    queue: RollupQueue,
    deltas: Map<number, HourCounts>,
  ): Promise<void> {
    if (deltas.size === 0) return;
    const days = new Map<number, HourCounts>();
    for (const [hour, delta] of deltas) {
      const day = dayOf(hour);
      days.set(day, addRollup(days.get(day) ?? emptyHour(), delta));
    }
    const subjects: RollupSubject[] = [
      { level: "queue", id: queue.id, application_id: queue.application_id },
      { level: "application", id: queue.application_id, application_id: queue.application_id },
    ];
    for (const subject of subjects) {
      await this.addPeriods(trx, subject, "hour", deltas);
      await this.addPeriods(trx, subject, "day", days);
    }
  }

  /**
   * Adds deltas to a subject's stored periods: the rows are made if missing, then locked (in start order,
   * so two workers adding to one application's rows wait for each other rather than deadlock), summed with
   * the deltas and written back.
   */
  private async addPeriods(
    trx: Transaction<Database>,
    subject: RollupSubject,
    span: RollupSpan,
    deltas: Map<number, HourCounts>,
  ): Promise<void> {
    const starts = [...deltas.keys()].sort((a, b) => a - b).map(iso);
    await trx
      .insertInto("queue_rollups")
      .values(
        starts.map((start) => ({
          subject_id: subject.id,
          level: subject.level,
          application_id: subject.application_id,
          span,
          period_start: start,
          ...EMPTY_COUNTS,
          peak_waiting: 0,
          wait_hist: "",
          callback_hist: "",
        })),
      )
      .onConflict((oc) => oc.columns(["subject_id", "span", "period_start"]).doNothing())
      .execute();
    const stored = await trx
      .selectFrom("queue_rollups")
      .select(["period_start", ...COUNTS, "wait_hist", "callback_hist"])
      .where("subject_id", "=", subject.id)
      .where("span", "=", span)
      .where("period_start", "in", starts)
      .orderBy("period_start")
      .$if(this.dialect === "postgres", (q) => q.forUpdate())
      .execute();
    for (const before of stored) {
      const delta = deltas.get(Date.parse(before.period_start));
      if (delta === undefined) continue;
      const sum = addRollup(toCounts(before), delta);
      const counts = Object.fromEntries(COUNTS.map((column) => [column, sum[column]])) as Record<
        CountKey,
        number
      >;
      await trx
        .updateTable("queue_rollups")
        .set({ ...counts, wait_hist: sum.wait.encode(), callback_hist: sum.callbackDuration.encode() })
        .where("subject_id", "=", subject.id)
        .where("span", "=", span)
        .where("period_start", "=", before.period_start)
        .execute();
    }
  }

  async notePeak(subject: RollupSubject, hourStart: string, waiting: number): Promise<void> {
    const periods: [RollupSpan, string][] = [
      ["hour", hourStart],
      ["day", iso(dayOf(Date.parse(hourStart)))],
    ];
    for (const [span, start] of periods) {
      await this.db
        .insertInto("queue_rollups")
        .values({
          subject_id: subject.id,
          level: subject.level,
          application_id: subject.application_id,
          span,
          period_start: start,
          ...EMPTY_COUNTS,
          peak_waiting: waiting,
          wait_hist: "",
          callback_hist: "",
        })
        .onConflict((oc) =>
          oc
            .columns(["subject_id", "span", "period_start"])
            .doUpdateSet({ peak_waiting: waiting })
            .where("queue_rollups.peak_waiting", "<", waiting),
        )
        .execute();
    }
  }

  async rows(filter: {
    span: RollupSpan;
    visible: Visibility;
    applicationId?: string;
    queueId?: string;
    from: string;
    to: string;
    limit?: number;
  }): Promise<RollupRow[]> {
    if (seesNothing(filter.visible)) return [];
    let query = this.db
      .selectFrom("queue_rollups")
      .select([
        "subject_id",
        "level",
        "application_id",
        "span",
        "period_start",
        ...COUNTS,
        "peak_waiting",
        "wait_hist",
        "callback_hist",
      ])
      .where("span", "=", filter.span)
      .where("period_start", ">=", filter.from)
      .where("period_start", "<", filter.to);
    if (filter.queueId !== undefined) {
      query = query.where("subject_id", "=", filter.queueId).where("level", "=", "queue");
    } else {
      query = query.where("level", "=", "application");
    }
    if (filter.visible !== "all") query = query.where("application_id", "in", filter.visible);
    if (filter.applicationId !== undefined) query = query.where("application_id", "=", filter.applicationId);
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return query.execute();
  }

  pruneTickets(queueId: string, before: string, limit: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const cursor = await trx
        .selectFrom("rollup_cursors")
        .select(["rolled_until", "rolled_seq"])
        .where("queue_id", "=", queueId)
        .executeTakeFirst();
      // Only what the rollup has counted goes: ended before both the cutoff and the cursor.
      if (cursor === undefined) return 0;
      const cutoff = cursor.rolled_until < before ? cursor.rolled_until : before;
      const tickets = await trx
        .selectFrom("tickets")
        .select("id")
        .where("queue_id", "=", queueId)
        .where("ended_at", "<", cutoff)
        .where("seq", "<=", Number(cursor.rolled_seq))
        .orderBy("ended_at")
        .limit(limit)
        .execute();
      const ids = tickets.map((row) => row.id);
      for (const chunk of inChunks(ids)) {
        const events = trx.selectFrom("callback_outbox").select("id").where("ticket_id", "in", chunk);
        await trx.deleteFrom("callback_errors").where("event_id", "in", events).execute();
        await trx.deleteFrom("callback_outbox").where("ticket_id", "in", chunk).execute();
        await trx.deleteFrom("tickets").where("id", "in", chunk).execute();
      }
      return ids.length;
    });
  }

  async queueIds(): Promise<string[]> {
    const rows = await this.db.selectFrom("queues").select("id").orderBy("id").execute();
    return rows.map((row) => row.id);
  }
}
