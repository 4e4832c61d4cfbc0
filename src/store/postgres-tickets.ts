import { type Kysely, sql } from "kysely";
import { inRequestOrder, joinKey, visitorsByQueue } from "./join-batch.js";
import { KyselyTicketRepository } from "./kysely/tickets.js";
import { newTimeOrderedId } from "./kysely/util.js";
import { ACTIVE_TICKET_PREDICATE } from "./migrations/002-waiting-room.js";
import type { Database } from "./schema.js";
import type { JoinOutcome, JoinRequest, Ticket } from "./types.js";

interface JoinRow extends Ticket {
  kind: "existing" | "joined" | "live";
}

const active = sql.raw(ACTIVE_TICKET_PREDICATE);

/**
 * The production join path: one statement per queue in a batch, so a batch costs one round trip and one
 * commit, and the queue's row lock (its ticket counter) is held for no longer than that statement. Same
 * rules as the SQLite path (sqlite-tickets.ts, sharing join-batch.ts): an active ticket is returned as it
 * is; the others get consecutive ticket numbers reserved from the queue, which must be live. One more,
 * as several processes join at once: a concurrent insert of the same visitor by another process wins and
 * its ticket is returned instead (the numbers reserved for it are left unused).
 */
export class PostgresTicketRepository extends KyselyTicketRepository {
  constructor(db: Kysely<Database>) {
    super(db);
  }

  /**
   * Each queue's statement commits on its own, so a failure in one queue's part must not take back (or
   * leave unanswered) what another's committed: the failed part is reported per request. When every part
   * failed, nothing was stored and the first error is thrown.
   */
  override async joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]> {
    const found = new Map<string, JoinOutcome>();
    let stored = false;
    let firstError: unknown;
    for (const [queueId, visitors] of visitorsByQueue(requests)) {
      let outcomes: Map<string, JoinOutcome>;
      try {
        outcomes = await this.joinQueue(queueId, visitors, now);
        stored = true;
      } catch (error) {
        firstError ??= error;
        outcomes = new Map(visitors.map(({ visitorId }) => [visitorId, { kind: "failed", error }]));
      }
      for (const [visitorId, outcome] of outcomes) found.set(joinKey(queueId, visitorId), outcome);
    }
    if (!stored && firstError !== undefined) throw firstError;
    return inRequestOrder(requests, found);
  }

  private async joinQueue(
    queueId: string,
    requests: JoinRequest[],
    now: string,
  ): Promise<Map<string, JoinOutcome>> {
    const visitors = requests.map((request) => request.visitorId);
    const ids = visitors.map(() => newTimeOrderedId());
    const devices = requests.map((request) => request.deviceHash ?? null);
    const returns = requests.map((request) => request.returnTo ?? null);
    const { rows } = await sql<JoinRow>`
      with req as (
        select visitor_id, id, device_hash, return_to, ord
          from unnest(${visitors}::text[], ${ids}::uuid[], ${devices}::text[], ${returns}::text[])
               with ordinality as r(visitor_id, id, device_hash, return_to, ord)
      ),
      existing as (
        -- One index probe per visitor on (queue_id, visitor_id), however stale the table's statistics:
        -- a lateral subquery with LIMIT is not flattened into a join, so the planner cannot choose to scan
        -- the whole queue and filter (it did, on a young table whose statistics said it was empty).
        select t.* from req cross join lateral (
          select * from tickets where queue_id = ${queueId} and visitor_id = req.visitor_id and ${active} limit 1
        ) t
      ),
      fresh as (
        select req.* from req where not exists (select 1 from existing e where e.visitor_id = req.visitor_id)
      ),
      reserved as (
        update queues set next_seq = next_seq + (select count(*) from fresh)
         where id = ${queueId} and deleted_at is null
           and exists (select 1 from applications a where a.id = queues.application_id and a.deleted_at is null)
        returning next_seq
      ),
      inserted as (
        insert into tickets (id, queue_id, seq, visitor_id, status, joined_at, device_hash, return_to)
        select f.id, ${queueId}, r.next_seq - (select count(*) from fresh) + row_number() over (order by f.ord),
               f.visitor_id, 'waiting', ${now}, f.device_hash, f.return_to
          from fresh f cross join reserved r
        on conflict (queue_id, visitor_id) where ${active} do nothing
        returning *
      )
      select 'existing' as kind, existing.* from existing
      union all select 'joined' as kind, inserted.* from inserted
      union all select 'live' as kind, t.* from (select 1) one left join tickets t on false where exists (select 1 from reserved)
    `.execute(this.db);
    const outcomes = new Map<string, JoinOutcome>();
    if (!rows.some((row) => row.kind === "live")) {
      return new Map(visitors.map((visitorId) => [visitorId, { kind: "queue_gone" }]));
    }
    for (const { kind, ...ticket } of rows) {
      if (kind === "live") continue;
      outcomes.set(ticket.visitor_id, { kind, ticket: { ...ticket, seq: Number(ticket.seq) } });
    }
    // Another process joined some of these visitors at the same moment and won: return its tickets. The
    // statement above is committed, so a failure here concerns only these visitors (we stored nothing
    // for them).
    const lost = visitors.filter((visitorId) => !outcomes.has(visitorId));
    if (lost.length > 0) {
      try {
        const tickets = await this.db
          .selectFrom("tickets")
          .selectAll()
          .where("queue_id", "=", queueId)
          .where("visitor_id", "in", lost)
          .where(sql.raw<boolean>(ACTIVE_TICKET_PREDICATE))
          .execute();
        for (const ticket of tickets) outcomes.set(ticket.visitor_id, { kind: "existing", ticket });
      } catch (error) {
        for (const visitorId of lost) outcomes.set(visitorId, { kind: "failed", error });
      }
    }
    return outcomes;
  }
}
