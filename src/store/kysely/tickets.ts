import { type Kysely, sql, type Transaction } from "kysely";
import {
  ACTIVE_TICKET_PREDICATE,
  RELEASED_TICKET_PREDICATE,
  WAITING_TICKET_PREDICATE,
} from "../migrations/002-waiting-room.js";
import type { Database } from "../schema.js";
import type { JoinOutcome, JoinRequest, Ticket, TicketRepository } from "../types.js";
import { newTimeOrderedId } from "./util.js";

const active = sql.raw<boolean>(ACTIVE_TICKET_PREDICATE);
const waiting = sql.raw<boolean>(WAITING_TICKET_PREDICATE);
const released = sql.raw<boolean>(RELEASED_TICKET_PREDICATE);

export class KyselyTicketRepository implements TicketRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]> {
    const byQueue = new Map<string, Set<string>>();
    for (const request of requests) {
      const visitors = byQueue.get(request.queueId) ?? new Set<string>();
      visitors.add(request.visitorId);
      byQueue.set(request.queueId, visitors);
    }
    const results = await this.db.transaction().execute(async (trx) => {
      const found = new Map<string, JoinOutcome>();
      for (const [queueId, visitors] of byQueue) {
        for (const [visitorId, outcome] of await joinQueue(trx, queueId, [...visitors], now)) {
          found.set(`${queueId}\n${visitorId}`, outcome);
        }
      }
      return found;
    });
    // A visitor listed twice in one batch joined once: the second request sees the first's ticket.
    const seen = new Set<string>();
    return requests.map((request) => {
      const key = `${request.queueId}\n${request.visitorId}`;
      const outcome = results.get(key) ?? { kind: "queue_gone" };
      if (seen.has(key) && outcome.kind === "joined") return { kind: "existing", ticket: outcome.ticket };
      seen.add(key);
      return outcome;
    });
  }

  async findBySeq(queueId: string, seq: number): Promise<Ticket | undefined> {
    return this.db
      .selectFrom("tickets")
      .selectAll()
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .executeTakeFirst();
  }

  async cancel(
    queueId: string,
    seq: number,
    now: string,
  ): Promise<{ ticket: Ticket; cancelled: boolean } | undefined> {
    const result = await this.db
      .updateTable("tickets")
      .set({ status: "cancelled", ended_at: now, end_reason: "cancelled" })
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .where(waiting)
      .executeTakeFirst();
    const ticket = await this.findBySeq(queueId, seq);
    return ticket === undefined ? undefined : { ticket, cancelled: Number(result.numUpdatedRows) > 0 };
  }

  async expireAbandoned(queueId: string, seqs: readonly number[], now: string): Promise<number[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db
      .updateTable("tickets")
      .set({ status: "expired", ended_at: now, end_reason: "abandoned" })
      .where("queue_id", "=", queueId)
      .where("seq", "in", seqs)
      .where(waiting)
      .returning("seq")
      .execute();
    return rows.map((row) => row.seq);
  }

  async expireUnseen(queueId: string, seqs: readonly number[], now: string): Promise<number[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db
      .updateTable("tickets")
      .set({ status: "expired", ended_at: now, end_reason: "not_seen" })
      .where("queue_id", "=", queueId)
      .where("seq", "in", seqs)
      .where("status", "=", "released")
      .where("admitted_at", "is", null)
      .returning("seq")
      .execute();
    return rows.map((row) => row.seq);
  }

  async endAdmissions(
    queueId: string,
    releasedBefore: string,
    now: string,
    limit: number,
  ): Promise<number[]> {
    const rows = await this.db
      .updateTable("tickets")
      .set({ status: "expired", ended_at: now, end_reason: "admission_ended" })
      .where("id", "in", (eb) =>
        eb
          .selectFrom("tickets")
          .select("id")
          .where("queue_id", "=", queueId)
          .where(released)
          .where("released_at", "<", releasedBefore)
          .limit(limit),
      )
      .returning("seq")
      .execute();
    return rows.map((row) => Number(row.seq));
  }

  async markAdmitted(queueId: string, seq: number, now: string): Promise<boolean> {
    const result = await this.db
      .updateTable("tickets")
      .set({ admitted_at: now })
      .where("queue_id", "=", queueId)
      .where("seq", "=", seq)
      .where("status", "=", "released")
      .where("admitted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async countWaitingBefore(queueId: string, seq: number): Promise<number> {
    const row = await this.db
      .selectFrom("tickets")
      .select((eb) => eb.fn.countAll().as("count"))
      .where("queue_id", "=", queueId)
      .where(waiting)
      .where("seq", "<", seq)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  async waitingSeqs(queueId: string, afterSeq: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom("tickets")
      .select("seq")
      .where("queue_id", "=", queueId)
      .where(waiting)
      .where("seq", ">", afterSeq)
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map((row) => Number(row.seq));
  }

  async findBySeqs(queueId: string, seqs: readonly number[]): Promise<Ticket[]> {
    if (seqs.length === 0) return [];
    return this.db
      .selectFrom("tickets")
      .selectAll()
      .where("queue_id", "=", queueId)
      .where("seq", "in", seqs)
      .execute();
  }

  async activePage(queueId: string, afterSeq: number, limit: number): Promise<Ticket[]> {
    return this.db
      .selectFrom("tickets")
      .selectAll()
      .where("queue_id", "=", queueId)
      .where(active)
      .where("seq", ">", afterSeq)
      .orderBy("seq")
      .limit(limit)
      .execute();
  }
}

/** One queue's share of a join batch, inside the batch's transaction. */
async function joinQueue(
  trx: Transaction<Database>,
  queueId: string,
  visitorIds: string[],
  now: string,
): Promise<Map<string, JoinOutcome>> {
  const outcomes = new Map<string, JoinOutcome>();
  const findActive = async (ids: string[]) =>
    ids.length === 0
      ? []
      : trx
          .selectFrom("tickets")
          .selectAll()
          .where("queue_id", "=", queueId)
          .where("visitor_id", "in", ids)
          .where(active)
          .execute();
  for (const ticket of await findActive(visitorIds))
    outcomes.set(ticket.visitor_id, { kind: "existing", ticket });
  const fresh = visitorIds.filter((id) => !outcomes.has(id));
  // Reserving ticket numbers doubles as the liveness check: a deleted queue or application matches no row.
  const reserved = await trx
    .updateTable("queues")
    .set({ next_seq: sql<number>`next_seq + ${fresh.length}` })
    .where("id", "=", queueId)
    .where("deleted_at", "is", null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("applications")
          .select(sql.lit(1).as("one"))
          .whereRef("applications.id", "=", "queues.application_id")
          .where("applications.deleted_at", "is", null),
      ),
    )
    .returning("next_seq")
    .executeTakeFirst();
  if (reserved === undefined) return new Map(visitorIds.map((id) => [id, { kind: "queue_gone" }]));
  if (fresh.length === 0) return outcomes;
  const first = Number(reserved.next_seq) - fresh.length + 1;
  const rows: Ticket[] = fresh.map((visitorId, i) => ({
    id: newTimeOrderedId(),
    queue_id: queueId,
    seq: first + i,
    visitor_id: visitorId,
    status: "waiting",
    joined_at: now,
    released_at: null,
    admitted_at: null,
    ended_at: null,
    end_reason: null,
    access_token: null,
  }));
  const inserted = await trx
    .insertInto("tickets")
    .values(rows)
    .onConflict((oc) =>
      oc.columns(["queue_id", "visitor_id"]).where(sql.raw<boolean>(ACTIVE_TICKET_PREDICATE)).doNothing(),
    )
    .returning("id")
    .execute();
  const insertedIds = new Set(inserted.map((row) => row.id));
  const lost: string[] = [];
  for (const row of rows) {
    if (insertedIds.has(row.id)) outcomes.set(row.visitor_id, { kind: "joined", ticket: row });
    else lost.push(row.visitor_id);
  }
  // Another process joined the same visitor concurrently and committed first: return its ticket.
  for (const ticket of await findActive(lost)) outcomes.set(ticket.visitor_id, { kind: "existing", ticket });
  return outcomes;
}
