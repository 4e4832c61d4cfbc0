import { type Kysely, sql } from "kysely";
import { WAITING_TICKET_PREDICATE } from "../migrations/002-waiting-room.js";
import type { Database } from "../schema.js";
import type { Dialect, ReleaseRepository, ReleaseRequest, ReleaseResult, Ticket } from "../types.js";

export class KyselyReleaseRepository implements ReleaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async releaseApplication(request: ReleaseRequest): Promise<ReleaseResult | undefined> {
    const postgres = this.dialect === "postgres";
    const subjects = [request.applicationId, ...request.queueIds];
    const nowIso = new Date(request.now).toISOString();
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("rate_state")
        .values(
          subjects.map((subject_id) => ({
            subject_id,
            tat_ms: 0,
            meter_released: 0,
            meter_busy_ms: 0,
            meter_at: null,
          })),
        )
        .onConflict((oc) => oc.column("subject_id").doNothing())
        .execute();
      // The application's rate row is the release lock: with several workers, one releases an application
      // at a time and the others skip it this round instead of waiting.
      const lock = await trx
        .selectFrom("rate_state")
        .select("subject_id")
        .where("subject_id", "=", request.applicationId)
        .$if(postgres, (q) => q.forUpdate().skipLocked())
        .executeTakeFirst();
      if (lock === undefined) return undefined;

      const rows = await trx
        .selectFrom("rate_state")
        .selectAll()
        .where("subject_id", "in", subjects)
        .execute();
      const plan = request.plan(
        new Map(
          rows.map((row) => [
            row.subject_id,
            {
              tatMs: Number(row.tat_ms),
              meter: {
                released: row.meter_released,
                busyMs: row.meter_busy_ms,
                at: row.meter_at === null ? undefined : Number(row.meter_at),
              },
            },
          ]),
        ),
      );
      const released: Ticket[] = [];
      for (const [queueId, count] of plan.counts) {
        const candidates = await trx
          .selectFrom("tickets")
          .selectAll()
          .where("queue_id", "=", queueId)
          .where(sql.raw<boolean>(WAITING_TICKET_PREDICATE))
          .orderBy("seq")
          .limit(count)
          .$if(postgres, (q) => q.forUpdate())
          .execute();
        for (const ticket of candidates) {
          const { accessToken, outbox } = await request.admit(ticket);
          await trx
            .updateTable("tickets")
            .set({ status: "released", released_at: nowIso, access_token: accessToken })
            .where("id", "=", ticket.id)
            .execute();
          await trx
            .insertInto("callback_outbox")
            .values({
              id: outbox.id,
              application_id: request.applicationId,
              queue_id: queueId,
              ticket_id: ticket.id,
              event: "visitor.released",
              payload: outbox.payload,
              status: outbox.status,
              attempts: 0,
              next_attempt_at: nowIso,
              locked_until: null,
              last_error: null,
              last_status: null,
              created_at: nowIso,
              delivered_at: null,
            })
            .execute();
          released.push({ ...ticket, status: "released", released_at: nowIso, access_token: accessToken });
        }
      }
      for (const [subject_id, state] of plan.states) {
        await trx
          .updateTable("rate_state")
          .set({
            tat_ms: state.tatMs,
            meter_released: state.meter.released,
            meter_busy_ms: state.meter.busyMs,
            meter_at: state.meter.at ?? null,
          })
          .where("subject_id", "=", subject_id)
          .execute();
      }
      return { released, states: plan.states };
    });
  }
}
