import { type Kysely, sql, type Transaction } from "kysely";
import { freshRateState, type RateLimitState, type ReleaseRun } from "../../domain/gcra.js";
import type { RateState } from "../../domain/release-plan.js";
import { WAITING_TICKET_PREDICATE } from "../migrations/002-waiting-room.js";
import type { Database, RateStateTable } from "../schema.js";
import type {
  Dialect,
  ReleaseRepository,
  ReleaseRequest,
  ReleaseResult,
  SigningKeyRow,
  Ticket,
} from "../types.js";

const waiting = sql.raw<boolean>(WAITING_TICKET_PREDICATE);

/**
 * The release record as JSON, runs as arrays of their six numbers (the column is rewritten at every
 * release round): {"from": recordedFrom (null: ever), "runs": [[from, step, first, n, late, at], ...]}.
 */
function encodeRecent(state: RateLimitState): string {
  return JSON.stringify({
    // JSON has no infinities: -Infinity (recorded ever) is null; +Infinity (not yet) never reaches here.
    from:
      state.recordedFrom === Number.NEGATIVE_INFINITY ? null : Math.min(state.recordedFrom, Number.MAX_VALUE),
    runs: state.recent.map((run) => [run.from, run.step, run.first, run.n, run.late, run.at]),
  });
}

/**
 * Null (a row written before the column existed) or anything unreadable: not recording yet, so missed
 * slots are not made up until a whole window has been recorded.
 */
function decodeRecent(text: string | null): Pick<RateLimitState, "recent" | "recordedFrom"> {
  const unknown = { recent: [], recordedFrom: Number.POSITIVE_INFINITY };
  if (text === null) return unknown;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unknown;
  }
  if (typeof parsed !== "object" || parsed === null || !("from" in parsed) || !("runs" in parsed))
    return unknown;
  const from = parsed.from;
  if ((from !== null && typeof from !== "number") || !Array.isArray(parsed.runs)) return unknown;
  const recent: ReleaseRun[] = [];
  for (const entry of parsed.runs as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 6) return unknown;
    const [start, step, first, n, late, at] = entry as unknown[];
    if (
      typeof start !== "number" ||
      typeof step !== "number" ||
      typeof first !== "number" ||
      typeof n !== "number" ||
      typeof late !== "number" ||
      typeof at !== "number"
    )
      return unknown;
    recent.push({ from: start, step, first, n, late, at });
  }
  return { recent, recordedFrom: from ?? Number.NEGATIVE_INFINITY };
}

function toState(row: RateStateTable): RateState {
  return {
    tatMs: Number(row.tat_ms),
    ...decodeRecent(row.release_window),
    meter: {
      released: Number(row.meter_released),
      busyMs: Number(row.meter_busy_ms),
      at: row.meter_at === null ? undefined : Number(row.meter_at),
    },
  };
}

/**
 * One release round for one application, in one transaction and few round trips (this runs every few
 * milliseconds per application with several workers): lock, read the rate state and when each queue's
 * front visitor joined, pick, read the signing key, update tickets in one statement, write the outbox in
 * one statement, upsert the rate state in one statement.
 */
export class KyselyReleaseRepository implements ReleaseRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

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
      .values({
        subject_id: applicationId,
        tat_ms: 0,
        release_window: encodeRecent(freshRateState()),
        meter_released: 0,
        meter_busy_ms: 0,
        meter_at: null,
      })
      .onConflict((oc) => oc.column("subject_id").doNothing())
      .execute();
    return (await select()) !== undefined;
  }

  /**
   * The key admission tokens are signed with: the newest not revoked (as AdmissionKeys orders them). In
   * PostgreSQL the row is held FOR SHARE until commit, so a revocation (an UPDATE of it) waits for this
   * release rather than revoking the key under tokens about to be committed; SQLite runs one writer at a time.
   */
  private async currentSigningKey(trx: Transaction<Database>): Promise<SigningKeyRow | undefined> {
    return trx
      .selectFrom("signing_keys")
      .selectAll()
      .where("revoked_at", "is", null)
      .orderBy("created_at", "desc")
      .orderBy("kid", "desc")
      .limit(1)
      .$if(this.dialect === "postgres", (q) => q.forShare())
      .executeTakeFirst();
  }

  async releaseApplication(request: ReleaseRequest): Promise<ReleaseResult | undefined> {
    const subjects = [request.applicationId, ...request.queueIds];
    const nowIso = new Date(request.now).toISOString();
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.lock(trx, request.applicationId))) return undefined;
      const rows = await trx
        .selectFrom("rate_state")
        .selectAll()
        .where("subject_id", "in", subjects)
        .execute();
      // When each queue's oldest waiting visitor joined (the front of the line, by the waiting index).
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
        .where("queues.id", "in", request.queueIds)
        .execute();
      const waitingSince = new Map<string, number>();
      for (const front of fronts) {
        if (front.joined_at !== null) waitingSince.set(front.id, Date.parse(front.joined_at));
      }
      const plan = request.plan(new Map(rows.map((row) => [row.subject_id, toState(row)])), waitingSince);

      const picked: Ticket[] = [];
      for (const [queueId, count] of plan.counts) {
        const candidates = await trx
          .selectFrom("tickets")
          .selectAll()
          .where("queue_id", "=", queueId)
          .where(waiting)
          .orderBy("seq")
          .limit(count)
          .$if(this.dialect === "postgres", (q) => q.forUpdate())
          .execute();
        picked.push(...candidates);
      }
      const released: Ticket[] = [];
      const outbox: Database["callback_outbox"][] = [];
      const key = picked.length > 0 ? await this.currentSigningKey(trx) : undefined;
      for (const ticket of picked) {
        if (key === undefined) throw new Error("no admission signing key in the record");
        const { accessToken, outbox: draft } = await request.admit(ticket, key);
        released.push({ ...ticket, status: "released", released_at: nowIso, access_token: accessToken });
        outbox.push({
          ...draft,
          attempts: 0,
          next_attempt_at: nowIso,
          locked_until: null,
          last_error: null,
          last_status: null,
          created_at: nowIso,
          delivered_at: null,
        });
      }
      if (released.length > 0) {
        // Each ticket gets its own token: one UPDATE with a CASE over the ids.
        const tokenOf = sql<string>`case ${sql.join(
          released.map((ticket) => sql`when ${sql.ref("id")} = ${ticket.id} then ${ticket.access_token}`),
          sql` `,
        )} end`;
        await trx
          .updateTable("tickets")
          .set({ status: "released", released_at: nowIso, access_token: tokenOf })
          .where(
            "id",
            "in",
            released.map((ticket) => ticket.id),
          )
          .execute();
        await trx.insertInto("callback_outbox").values(outbox).execute();
      }
      const actual = new Map<string, number>();
      for (const ticket of released) actual.set(ticket.queue_id, (actual.get(ticket.queue_id) ?? 0) + 1);
      const settled = plan.states(actual);
      const states = [...settled].map(([subject_id, state]) => ({
        subject_id,
        tat_ms: state.tatMs,
        release_window: encodeRecent(state),
        meter_released: state.meter.released,
        meter_busy_ms: state.meter.busyMs,
        meter_at: state.meter.at ?? null,
      }));
      if (states.length > 0) {
        await trx
          .insertInto("rate_state")
          .values(states)
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
      }
      return { released, states: settled };
    });
  }
}
