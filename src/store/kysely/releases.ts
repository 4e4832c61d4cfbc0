import { type Kysely, sql, type Transaction } from "kysely";
import { unreleasedState } from "../../domain/release-plan.js";
import { WAITING_TICKET_PREDICATE } from "../migrations/002-waiting-room.js";
import type { Database } from "../schema.js";
import type { Dialect, ReleaseRepository, ReleaseRound } from "../types.js";
import { rateStateOf, rateStateRow } from "./rate-state.js";
import { inChunks } from "./util.js";

const waiting = sql.raw<boolean>(WAITING_TICKET_PREDICATE);

export class KyselyReleaseRepository implements ReleaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async withApplicationLock<T>(
    applicationId: string,
    round: (round: ReleaseRound) => Promise<T>,
  ): Promise<T | undefined> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.lock(trx, applicationId))) return undefined;
      return round(releaseRound(trx, this.dialect));
    });
  }

  /**
   * The application's rate row is the release lock: with several workers, one releases an application at
   * a time and the others skip it this round (SKIP LOCKED) instead of queueing behind it.
   */
  private async lock(trx: Transaction<Database>, applicationId: string): Promise<boolean> {
    const select = () =>
      trx
        .selectFrom("rate_state")
        .select("subject_id")
        .where("subject_id", "=", applicationId)
        .$if(this.dialect === "postgres", (q) => q.forUpdate().skipLocked())
        .executeTakeFirst();
    if ((await select()) !== undefined) return true;
    await trx
      .insertInto("rate_state")
      .values(rateStateRow(applicationId, unreleasedState()))
      .onConflict((oc) => oc.column("subject_id").doNothing())
      .execute();
    return (await select()) !== undefined;
  }
}

function releaseRound(trx: Transaction<Database>, dialect: Dialect): ReleaseRound {
  return {
    async rateStates(subjectIds) {
      const rows = await trx
        .selectFrom("rate_state")
        .selectAll()
        .where("subject_id", "in", subjectIds)
        .execute();
      return new Map(rows.map((row) => [row.subject_id, rateStateOf(row)]));
    },

    async waitingSince(queueIds) {
      // The front of each line, by the waiting index.
      const fronts = await trx
        .selectFrom("queues")
        .select((eb) => [
          "queues.id",
          eb
            .selectFrom("tickets")
            .select("tickets.joined_at")
            .whereRef("tickets.queue_id", "=", "queues.id")
            .where(waiting)
            .orderBy("tickets.seq")
            .limit(1)
            .as("joined_at"),
        ])
        .where("queues.id", "in", queueIds)
        .execute();
      const since = new Map<string, number>();
      for (const front of fronts) {
        if (front.joined_at !== null) since.set(front.id, Date.parse(front.joined_at));
      }
      return since;
    },

    oldestWaiting(queueId, limit) {
      return trx
        .selectFrom("tickets")
        .selectAll()
        .where("queue_id", "=", queueId)
        .where(waiting)
        .orderBy("seq")
        .limit(limit)
        .$if(dialect === "postgres", (q) => q.forUpdate())
        .execute();
    },

    signingKey() {
      // The order is AdmissionKeys' (newest first); SQLite runs one writer at a time, so needs no lock.
      return trx
        .selectFrom("signing_keys")
        .selectAll()
        .where("revoked_at", "is", null)
        .orderBy("created_at", "desc")
        .orderBy("kid", "desc")
        .limit(1)
        .$if(dialect === "postgres", (q) => q.forShare())
        .executeTakeFirst();
    },

    // A round can catch up a minute of a fast queue: tickets and callbacks go a thousand per statement
    // (the dialects bind at most 32,766 and 65,535 values a statement), still in this one transaction.
    async markReleased(tickets, now) {
      for (const chunk of inChunks(tickets)) {
        // Each ticket gets its own token: one UPDATE with a CASE over the ids.
        const tokenOf = sql<string>`case ${sql.join(
          chunk.map((ticket) => sql`when ${sql.ref("id")} = ${ticket.id} then ${ticket.access_token}`),
          sql` `,
        )} end`;
        await trx
          .updateTable("tickets")
          .set({ status: "released", released_at: now, access_token: tokenOf })
          .where(
            "id",
            "in",
            chunk.map((ticket) => ticket.id),
          )
          .execute();
      }
    },

    async addCallbacks(drafts, now) {
      for (const chunk of inChunks(drafts)) {
        await trx
          .insertInto("callback_outbox")
          .values(
            chunk.map((draft) => ({
              ...draft,
              attempts: 0,
              next_attempt_at: now,
              locked_until: null,
              last_error: null,
              last_status: null,
              created_at: now,
              delivered_at: null,
            })),
          )
          .execute();
      }
    },

    async saveRateStates(states) {
      if (states.size === 0) return;
      await trx
        .insertInto("rate_state")
        .values([...states].map(([subjectId, state]) => rateStateRow(subjectId, state)))
        .onConflict((oc) =>
          oc.column("subject_id").doUpdateSet((eb) => ({
            tat_ms: eb.ref("excluded.tat_ms"),
            release_window: eb.ref("excluded.release_window"),
            meter_released: eb.ref("excluded.meter_released"),
            meter_busy_ms: eb.ref("excluded.meter_busy_ms"),
            meter_at: eb.ref("excluded.meter_at"),
          })),
        )
        .execute();
    },
  };
}
