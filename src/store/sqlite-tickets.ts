import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import { KyselyTicketRepository } from "./kysely/tickets.js";
import { newTimeOrderedId } from "./kysely/util.js";
import { ACTIVE_TICKET_PREDICATE } from "./migrations/002-waiting-room.js";
import type { Database } from "./schema.js";
import type { JoinOutcome, JoinRequest, Ticket } from "./types.js";

/**
 * The embedded join path. Same rules and same SQL as the Kysely repository, but run as prepared
 * statements in one synchronous SQLite transaction: the join batch is the hottest write there is, and
 * building and preparing a multi-row statement per batch cost more than the writes themselves. It holds
 * Kysely's connection while it runs, so it never interleaves with a Kysely transaction.
 */
interface Prepared {
  findActive: BetterSqlite3.Statement<[string, string], Ticket>;
  reserve: BetterSqlite3.Statement<[number, string], { next_seq: number }>;
  insert: BetterSqlite3.Statement<[string, string, number, string, string]>;
  run: (requests: readonly JoinRequest[], now: string) => JoinOutcome[];
}

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
    const insert = raw.prepare<[string, string, number, string, string]>(
      `insert into tickets (id, queue_id, seq, visitor_id, status, joined_at) values (?, ?, ?, ?, 'waiting', ?)
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
    const byQueue = new Map<string, JoinRequest[]>();
    for (const request of requests) {
      const list = byQueue.get(request.queueId) ?? [];
      list.push(request);
      byQueue.set(request.queueId, list);
    }
    const found = new Map<string, JoinOutcome>();
    for (const [queueId, list] of byQueue) {
      const fresh: string[] = [];
      for (const { visitorId } of list) {
        const key = `${queueId}\n${visitorId}`;
        if (found.has(key)) continue;
        const ticket = findActive.get(queueId, visitorId);
        if (ticket === undefined) {
          fresh.push(visitorId);
          found.set(key, { kind: "queue_gone" }); // placeholder until the insert below
        } else {
          found.set(key, { kind: "existing", ticket });
        }
      }
      const reserved = reserve.get(fresh.length, queueId);
      if (reserved === undefined) {
        for (const { visitorId } of list) found.set(`${queueId}\n${visitorId}`, { kind: "queue_gone" });
        continue;
      }
      let seq = reserved.next_seq - fresh.length;
      for (const visitorId of fresh) {
        seq += 1;
        const ticket: Ticket = {
          id: newTimeOrderedId(),
          queue_id: queueId,
          seq,
          visitor_id: visitorId,
          status: "waiting",
          joined_at: now,
          released_at: null,
          admitted_at: null,
          ended_at: null,
          end_reason: null,
          access_token: null,
        };
        insert.run(ticket.id, queueId, seq, visitorId, now);
        found.set(`${queueId}\n${visitorId}`, { kind: "joined", ticket });
      }
    }
    // A visitor listed twice in one batch joined once: the second request sees the first's ticket.
    const seen = new Set<string>();
    return requests.map((request) => {
      const key = `${request.queueId}\n${request.visitorId}`;
      const outcome = found.get(key) ?? { kind: "queue_gone" };
      if (seen.has(key) && outcome.kind === "joined") return { kind: "existing", ticket: outcome.ticket };
      seen.add(key);
      return outcome;
    });
  }
}
