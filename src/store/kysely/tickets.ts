import { type Kysely, sql } from "kysely";
import {
  ACTIVE_TICKET_PREDICATE,
  RELEASED_TICKET_PREDICATE,
  WAITING_TICKET_PREDICATE,
} from "../migrations/002-waiting-room.js";
import type { Database } from "../schema.js";
import type { JoinOutcome, JoinRequest, Ticket, TicketRepository } from "../types.js";
import { inChunks } from "./util.js";

const active = sql.raw<boolean>(ACTIVE_TICKET_PREDICATE);
const waiting = sql.raw<boolean>(WAITING_TICKET_PREDICATE);
const released = sql.raw<boolean>(RELEASED_TICKET_PREDICATE);

/** Tickets over Kysely, shared by both dialects; each dialect brings its own join batch. */
export abstract class KyselyTicketRepository implements TicketRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  /** Dialect-specific (see ../sqlite-tickets.ts, ../postgres-tickets.ts): the hottest write there is. */
  abstract joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]>;

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
    const expired: number[] = [];
    for (const chunk of inChunks(seqs)) {
      const rows = await this.db
        .updateTable("tickets")
        .set({ status: "expired", ended_at: now, end_reason: "abandoned" })
        .where("queue_id", "=", queueId)
        .where("seq", "in", chunk)
        .where(waiting)
        .returning("seq")
        .execute();
      expired.push(...rows.map((row) => row.seq));
    }
    return expired;
  }

  async expireUnseen(queueId: string, seqs: readonly number[], now: string): Promise<number[]> {
    const expired: number[] = [];
    for (const chunk of inChunks(seqs)) {
      const rows = await this.db
        .updateTable("tickets")
        .set({ status: "expired", ended_at: now, end_reason: "not_seen" })
        .where("queue_id", "=", queueId)
        .where("seq", "in", chunk)
        .where("status", "=", "released")
        .where("admitted_at", "is", null)
        .returning("seq")
        .execute();
      expired.push(...rows.map((row) => row.seq));
    }
    return expired;
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
    const found: Ticket[] = [];
    for (const chunk of inChunks(seqs)) {
      found.push(
        ...(await this.db
          .selectFrom("tickets")
          .selectAll()
          .where("queue_id", "=", queueId)
          .where("seq", "in", chunk)
          .execute()),
      );
    }
    return found;
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
