import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { inRequestOrder, joinKey, newWaitingTicket, visitorsByQueue } from "./join-batch.js";
import { KyselyTicketRepository } from "./kysely/tickets.js";
import { ACTIVE_TICKET_PREDICATE } from "./migrations/002-waiting-room.js";
import type { Database } from "./schema.js";
import type { JoinOutcome, JoinRequest, Ticket } from "./types.js";

interface Prepared {
  findActive: BetterSqlite3.Statement<[string, string], Ticket>;
  reserve: BetterSqlite3.Statement<[number, string], { next_seq: number }>;
  insert: BetterSqlite3.Statement<[string, string, number, string, string, string | null, string | null]>;
  run: (requests: readonly JoinRequest[], now: string) => JoinOutcome[];
}

/**
 * The embedded join path: the rules of `TicketRepository.joinBatch`, shared with the PostgreSQL path
 * through join-batch.ts (an active ticket is returned as it is; the others get consecutive ticket numbers
 * reserved from the queue, which must be live), as prepared statements in one synchronous SQLite
 * transaction: the join batch is the hottest write there is, and building and preparing a multi-row
 * statement per batch cost more than the writes themselves. It holds Kysely's connection while it runs,
 * so it never interleaves with a Kysely transaction.
 */
export class SqliteTicketRepository extends KyselyTicketRepository {
  private prepared: Prepared | undefined;

  constructor(
    db: Kysely<Database>,
    private readonly raw: BetterSqlite3.Database,
  ) {
    super(db);
  }

  /** Prepared on first use: the statements need the tables, which exist only after migrating. */
  private prepare(): Prepared {
    const raw = this.raw;
    const findActive = raw.prepare<[string, string], Ticket>(
      `select * from tickets where queue_id = ? and visitor_id = ? and ${ACTIVE_TICKET_PREDICATE}`,
    );
    // Reserving ticket numbers doubles as the liveness check: a deleted queue or application matches no row.
    const reserve = raw.prepare<[number, string], { next_seq: number }>(
      `update queues set next_seq = next_seq + ? where id = ? and deleted_at is null and exists
         (select 1 from applications where applications.id = queues.application_id and applications.deleted_at is null)
       returning next_seq`,
    );
    const insert = raw.prepare<[string, string, number, string, string, string | null, string | null]>(
      `insert into tickets (id, queue_id, seq, visitor_id, status, joined_at, device_hash, return_to)
       values (?, ?, ?, ?, 'waiting', ?, ?, ?)
       on conflict (queue_id, visitor_id) where ${ACTIVE_TICKET_PREDICATE} do nothing`,
    );
    const run = raw.transaction((requests: readonly JoinRequest[], now: string) =>
      this.joinNow(requests, now),
    );
    return { findActive, reserve, insert, run };
  }

  override async joinBatch(requests: readonly JoinRequest[], now: string): Promise<JoinOutcome[]> {
    this.prepared ??= this.prepare();
    const { run } = this.prepared;
    return this.db.connection().execute(async () => run(requests, now));
  }

  private joinNow(requests: readonly JoinRequest[], now: string): JoinOutcome[] {
    const { findActive, reserve, insert } = this.prepared ?? this.prepare();
    const found = new Map<string, JoinOutcome>();
    for (const [queueId, visitors] of visitorsByQueue(requests)) {
      const fresh: JoinRequest[] = [];
      for (const request of visitors) {
        const ticket = findActive.get(queueId, request.visitorId);
        if (ticket === undefined) fresh.push(request);
        else found.set(joinKey(queueId, request.visitorId), { kind: "existing", ticket });
      }
      const reserved = reserve.get(fresh.length, queueId);
      if (reserved === undefined) {
        for (const { visitorId } of visitors) found.set(joinKey(queueId, visitorId), { kind: "queue_gone" });
        continue;
      }
      const first = reserved.next_seq - fresh.length + 1;
      fresh.forEach((request, i) => {
        const ticket = newWaitingTicket(queueId, first + i, request, now);
        const { id, seq, visitor_id, device_hash, return_to } = ticket;
        insert.run(id, queueId, seq, visitor_id, now, device_hash, return_to);
        found.set(joinKey(queueId, visitor_id), { kind: "joined", ticket });
      });
    }
    return inRequestOrder(requests, found);
  }
}
