import { type Kysely, sql } from "kysely";
import type { AlertDetails, AlertKind, AlertState } from "../../domain/alerts.js";
import { FIRING_ALERT_PREDICATE, PENDING_NOTIFICATION_PREDICATE } from "../migrations/008-alerts.js";
import type {
  AlertChannelName,
  AlertEvent,
  AlertFilter,
  AlertRepository,
  AlertRow,
  ClaimedNotification,
  NewAlert,
} from "../repositories/alerts.js";
import type { AlertsTable, Database } from "../schema.js";
import { type Dialect, type Page, type PageRequest, UniqueViolation } from "../types.js";
import { clampPage, countOf, newId, rethrowUnique, seesNothing } from "./util.js";

const firing = sql.raw<boolean>(FIRING_ALERT_PREDICATE);
const pending = sql.raw<boolean>(PENDING_NOTIFICATION_PREDICATE);

function toRow(row: AlertsTable): AlertRow {
  return {
    ...row,
    kind: row.kind as AlertKind,
    state: row.state as AlertState,
    details: JSON.parse(row.details) as AlertDetails,
  };
}

export class KyselyAlertRepository implements AlertRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  async recent(resolvedSince: string): Promise<AlertRow[]> {
    const rows = await this.db
      .selectFrom("alerts")
      .selectAll()
      .where((eb) => eb.or([firing, eb("resolved_at", ">=", resolvedSince)]))
      .execute();
    return rows.map(toRow);
  }

  async fire(
    alert: NewAlert,
    channels: readonly AlertChannelName[],
    now: string,
  ): Promise<AlertRow | undefined> {
    const row: AlertsTable = {
      id: newId(),
      kind: alert.kind,
      subject: alert.subject,
      application_id: alert.application_id,
      state: "firing",
      fired_at: now,
      resolved_at: null,
      last_notified_at: null,
      details: JSON.stringify(alert.details),
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        try {
          await trx.insertInto("alerts").values(row).execute();
        } catch (error) {
          rethrowUnique(error, "alerts_one_firing_key");
        }
        await this.queue(trx, row.id, "fired", channels, now);
      });
    } catch (error) {
      if (error instanceof UniqueViolation) return undefined;
      throw error;
    }
    return toRow(row);
  }

  async resolve(id: string, channels: readonly AlertChannelName[], now: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("alerts")
        .set({ state: "resolved", resolved_at: now })
        .where("id", "=", id)
        .where(firing)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await this.queue(trx, id, "resolved", channels, now);
      return true;
    });
  }

  private async queue(
    trx: Kysely<Database>,
    alertId: string,
    event: AlertEvent,
    channels: readonly AlertChannelName[],
    now: string,
  ): Promise<void> {
    if (channels.length === 0) return;
    await trx
      .insertInto("alert_notifications")
      .values(
        channels.map((channel) => ({
          id: newId(),
          alert_id: alertId,
          event,
          channel,
          status: "pending",
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_error: null,
          created_at: now,
          sent_at: null,
        })),
      )
      .execute();
  }

  async claimNotifications(now: string, leaseUntil: string, limit: number): Promise<ClaimedNotification[]> {
    if (limit <= 0) return [];
    const due = this.db
      .selectFrom("alert_notifications")
      .select("id")
      .where(pending)
      .where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
      .orderBy("next_attempt_at")
      .orderBy("id")
      .limit(limit)
      .$if(this.dialect === "postgres", (q) => q.forUpdate().skipLocked());
    const claimed = await this.db
      .updateTable("alert_notifications")
      .set({ locked_until: leaseUntil })
      .where("id", "in", due)
      .returning(["id", "alert_id", "event", "channel", "attempts"])
      .execute();
    if (claimed.length === 0) return [];
    const alerts = await this.db
      .selectFrom("alerts")
      .selectAll()
      .where(
        "id",
        "in",
        claimed.map((c) => c.alert_id),
      )
      .execute();
    const byId = new Map(alerts.map((a) => [a.id, toRow(a)]));
    return claimed.flatMap((c) => {
      const alert = byId.get(c.alert_id);
      if (alert === undefined) return [];
      return [
        {
          id: c.id,
          event: c.event as AlertEvent,
          channel: c.channel as AlertChannelName,
          attempts: c.attempts,
          lockedUntil: leaseUntil,
          alert,
        },
      ];
    });
  }

  async markSent(id: string, lease: string, attempts: number, now: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable("alert_notifications")
        .set({ status: "sent", attempts, sent_at: now, locked_until: null, last_error: null })
        .where("id", "=", id)
        .where("locked_until", "=", lease)
        .returning("alert_id")
        .executeTakeFirst();
      if (updated === undefined) return false;
      await trx
        .updateTable("alerts")
        .set({ last_notified_at: now })
        .where("id", "=", updated.alert_id)
        .execute();
      return true;
    });
  }

  async scheduleRetry(
    id: string,
    lease: string,
    attempts: number,
    nextAttemptAt: string,
    error: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable("alert_notifications")
      .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error, locked_until: null })
      .where("id", "=", id)
      .where("locked_until", "=", lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async markFailed(id: string, lease: string, attempts: number, error: string): Promise<boolean> {
    const result = await this.db
      .updateTable("alert_notifications")
      .set({ status: "failed", attempts, last_error: error, locked_until: null })
      .where("id", "=", id)
      .where("locked_until", "=", lease)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async list(filter: AlertFilter, page: PageRequest): Promise<Page<AlertRow>> {
    if (seesNothing(filter.visible)) return { items: [], total: 0 };
    const { limit, offset } = clampPage(page);
    const base = this.db
      .selectFrom("alerts")
      .$if(filter.visible !== "all", (q) => q.where("application_id", "in", filter.visible as string[]))
      .$if(filter.applicationId !== undefined, (q) =>
        q.where("application_id", "=", filter.applicationId ?? ""),
      )
      .$if(filter.state !== undefined, (q) => q.where("state", "=", filter.state ?? "firing"));
    const [rows, count] = await Promise.all([
      base
        .selectAll()
        .orderBy("fired_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .offset(offset)
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirst(),
    ]);
    return { items: rows.map(toRow), total: countOf(count) };
  }

  async deadLettersSince(since: string): Promise<{ applicationId: string; count: number }[]> {
    const rows = await this.db
      .selectFrom("callback_errors")
      .select((eb) => ["application_id", eb.fn.countAll<number>().as("count")])
      .where("created_at", ">=", since)
      .groupBy("application_id")
      .execute();
    return rows.map((r) => ({ applicationId: r.application_id, count: Number(r.count) }));
  }

  async thresholds(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom("queues")
      .select(["id", "alert_threshold"])
      .where("alert_threshold", "is not", null)
      .where("deleted_at", "is", null)
      .execute();
    return new Map(rows.flatMap((r) => (r.alert_threshold == null ? [] : [[r.id, r.alert_threshold]])));
  }

  async recipients(applicationId: string): Promise<string[]> {
    const row = await this.db
      .selectFrom("applications")
      .select("alert_emails")
      .where("id", "=", applicationId)
      .executeTakeFirst();
    if (row?.alert_emails == null) return [];
    const parsed: unknown = JSON.parse(row.alert_emails);
    return Array.isArray(parsed) ? parsed.filter((e): e is string => typeof e === "string") : [];
  }

  async setThreshold(queueId: string, threshold: number | null): Promise<void> {
    await this.db
      .updateTable("queues")
      .set({ alert_threshold: threshold })
      .where("id", "=", queueId)
      .execute();
  }

  async setRecipients(applicationId: string, emails: readonly string[]): Promise<void> {
    await this.db
      .updateTable("applications")
      .set({ alert_emails: emails.length === 0 ? null : JSON.stringify(emails) })
      .where("id", "=", applicationId)
      .execute();
  }
}
