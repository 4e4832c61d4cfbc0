import type { Access } from "../domain/access.js";
import { WORKER_SILENT_MS } from "../domain/alerts.js";
import {
  type AnalyticsPoint,
  analyticsRange,
  series as foldSeries,
  type Granularity,
  type StoredHour,
} from "../domain/analytics.js";
import type { Clock } from "../domain/clock.js";
import { errors } from "../domain/errors.js";
import type { EndReason } from "../domain/model.js";
import { iso } from "../domain/time.js";
import type { QueueIndex } from "../index/types.js";
import type { ReadinessCheck } from "../observability/readiness.js";
import type { DeadLetter, Page, PageRequest, RollupRow, Store } from "../store/types.js";

/** What the dashboards read: the record, the hot index's line lengths, and the readiness checks. */
export interface DashboardDeps {
  store: Store;
  clock: Clock;
  index: Pick<QueueIndex, "waitingCount">;
  /** The same checks /readyz asks: "record", and "index" where the index is shared (Redis). */
  readiness: readonly ReadinessCheck[];
}

/** A worker silent this long is reported down (the same limit as the worker_down alert). */
export { WORKER_SILENT_MS };

const DAY_MS = 86_400_000;
/**
 * Stored rows one analytics answer may fold: 90 days by hour of 23 applications, or by day of 555. Beyond
 * it the question is refused (narrow it) rather than held in memory.
 */
export const MAX_ANALYTICS_ROWS = 50_000;
const HOUR_MS = 3_600_000;
/** The window the measured release rate is taken over. */
const RATE_WINDOW_MS = 5 * 60_000;
const CHECK_TIMEOUT_MS = 2_000;

export type Health = "up" | "down";
const EXPIRY_REASONS = ["abandoned", "not_seen", "admission_ended"] as const satisfies readonly EndReason[];
type ExpiryReason = (typeof EXPIRY_REASONS)[number];

export interface WorkerHealth {
  id: string;
  /** Where the worker runs: for admins only (a tenant's operator has no business with the hosts). */
  host?: string;
  pid?: number;
  started_at: string;
  last_seen_at: string;
  status: Health;
}

export interface Summary {
  generated_at: string;
  /** Midnight UTC today: where "today" starts. */
  day_started_at: string;
  applications: number;
  queues: number;
  waiting: number;
  released: { last_hour: number; today: number };
  expired_today: Record<ExpiryReason, number>;
  callbacks: { failed_today: number; dead_letters: number };
  health: { status: "ok" | "degraded"; record: Health; index: Health; workers: WorkerHealth[] };
}

export interface QueueStats {
  queue_id: string;
  name: string;
  mode: string;
  waiting: number;
  configured_rate_per_minute: number;
  measured_rate_per_minute: number;
  /** Visitors released in the last minute. */
  released_last_minute: number;
  /** Joins since the queue was made (a counter: a console takes its rate from two readings). */
  joined_total: number;
  oldest_waiting_joined_at: string | null;
  longest_wait_seconds: number;
  estimated_drain_seconds: number | null;
  admitted_active: number;
  callbacks: { pending: number; failed: number };
}

export interface AnalyticsQuery {
  applicationId?: string;
  queueId?: string;
  /** 1 to 90: the last `days` UTC days, today included. */
  days: number;
  granularity: Granularity;
}

export interface Analytics {
  application_id: string | null;
  queue_id: string | null;
  days: number;
  granularity: Granularity;
  from: string;
  to: string;
  generated_at: string;
  series: (AnalyticsPoint & { start: string })[];
  totals: AnalyticsPoint;
}

function storedHour(row: RollupRow): StoredHour {
  return { ...row, queue_id: row.subject_id, hour: Date.parse(row.period_start) };
}

const sum = (counts: Map<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

async function healthOf(check: ReadinessCheck | undefined): Promise<Health> {
  if (check === undefined) return "up";
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer")), CHECK_TIMEOUT_MS);
      }),
    ]);
    return "up";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/** The operator's dashboards, narrowed to what one caller may see. */
export class DashboardService {
  constructor(
    private readonly access: Access,
    private readonly deps: DashboardDeps,
  ) {}

  private async waiting(queueIds: readonly string[]): Promise<Map<string, number>> {
    const counts = await Promise.all(queueIds.map((id) => this.deps.index.waitingCount(id)));
    return new Map(queueIds.map((id, i) => [id, counts[i] ?? 0]));
  }

  private requireVisible(applicationId: string): void {
    if (!this.access.canSee(applicationId)) throw errors.notFound("application");
  }

  async summary(): Promise<Summary> {
    this.access.require("queue:read");
    const { store, clock, readiness } = this.deps;
    const now = clock.now();
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const visible = this.access.visibility;
    const [applications, queues] = await Promise.all([
      store.dashboard.applicationCount(visible),
      store.dashboard.queues(visible),
    ]);
    const ids = queues.map((queue) => queue.id);
    const [waiting, lastHour, today, expired, failedToday, deadLetters, record, index, workers] =
      await Promise.all([
        this.waiting(ids),
        store.dashboard.releasedSince(ids, iso(now - HOUR_MS)),
        store.dashboard.releasedSince(ids, iso(dayStart)),
        store.dashboard.expiredSince(ids, iso(dayStart)),
        store.dashboard.deadLetters(ids, iso(dayStart)),
        store.dashboard.deadLetters(ids),
        healthOf(readiness.find((check) => check.name === "record")),
        healthOf(readiness.find((check) => check.name === "index")),
        store.heartbeats.list(),
      ]);
    const admin = this.access.visibility === "all";
    const workerHealth: WorkerHealth[] = workers.map(({ host, pid, ...worker }) => ({
      ...worker,
      ...(admin ? { host, pid } : {}),
      status: (now - Date.parse(worker.last_seen_at) > WORKER_SILENT_MS ? "down" : "up") as Health,
    }));
    const up = (health: Health) => health === "up";
    const healthy =
      up(record) && up(index) && workerHealth.length > 0 && workerHealth.some((w) => up(w.status));
    return {
      generated_at: iso(now),
      day_started_at: iso(dayStart),
      applications,
      queues: queues.length,
      waiting: sum(waiting),
      released: { last_hour: sum(lastHour), today: sum(today) },
      expired_today: {
        abandoned: expired.abandoned ?? 0,
        not_seen: expired.not_seen ?? 0,
        admission_ended: expired.admission_ended ?? 0,
      },
      callbacks: { failed_today: sum(failedToday), dead_letters: sum(deadLetters) },
      health: { status: healthy ? "ok" : "degraded", record, index, workers: workerHealth },
    };
  }

  async queueStats(applicationId: string): Promise<{ application_id: string; items: QueueStats[] }> {
    this.requireVisible(applicationId);
    this.access.require("queue:read");
    const { store, clock } = this.deps;
    if ((await store.applications.findById(applicationId)) === undefined)
      throw errors.notFound("application");
    const now = clock.now();
    const queues = await store.dashboard.queues(this.access.visibility, applicationId);
    const ids = queues.map((queue) => queue.id);
    const [waiting, recent, lastMinute, oldest, admitted, pending, failed] = await Promise.all([
      this.waiting(ids),
      store.dashboard.releasedSince(ids, iso(now - RATE_WINDOW_MS)),
      store.dashboard.releasedSince(ids, iso(now - 60_000)),
      store.dashboard.oldestWaiting(ids),
      store.dashboard.activeAdmitted(ids),
      store.dashboard.pendingCallbacks(ids),
      store.dashboard.deadLetters(ids),
    ]);
    const items = queues.map((queue): QueueStats => {
      const line = waiting.get(queue.id) ?? 0;
      const measured = (recent.get(queue.id) ?? 0) / (RATE_WINDOW_MS / 60_000);
      const joinedAt = oldest.get(queue.id);
      const rate = measured > 0 ? measured : queue.max_users_per_minute;
      return {
        queue_id: queue.id,
        name: queue.name,
        mode: queue.mode,
        waiting: line,
        configured_rate_per_minute: queue.max_users_per_minute,
        measured_rate_per_minute: Math.round(measured * 100) / 100,
        released_last_minute: lastMinute.get(queue.id) ?? 0,
        joined_total: queue.next_seq,
        oldest_waiting_joined_at: joinedAt ?? null,
        longest_wait_seconds:
          joinedAt === undefined ? 0 : Math.max(0, Math.floor((now - Date.parse(joinedAt)) / 1000)),
        estimated_drain_seconds: rate > 0 ? Math.ceil((line / rate) * 60) : null,
        admitted_active: admitted.get(queue.id) ?? 0,
        callbacks: { pending: pending.get(queue.id) ?? 0, failed: failed.get(queue.id) ?? 0 },
      };
    });
    return { application_id: applicationId, items };
  }

  /**
   * Joins, releases, cancels, expiries, wait percentiles, peak line and callbacks per day or per hour, from
   * the worker's hourly rollups (never from tickets): of one queue, one application, or every visible one.
   */
  async analytics(query: AnalyticsQuery): Promise<Analytics> {
    const { applicationId, queueId, days, granularity } = query;
    if (applicationId !== undefined) this.requireVisible(applicationId);
    this.access.require("queue:read");
    const { store, clock } = this.deps;
    if (applicationId !== undefined && (await store.applications.findById(applicationId)) === undefined) {
      throw errors.notFound("application");
    }
    if (queueId !== undefined) {
      const queue = await store.queues.findById(queueId);
      if (
        queue === undefined ||
        !this.access.canSee(queue.application_id) ||
        (applicationId !== undefined && queue.application_id !== applicationId)
      ) {
        throw errors.notFound("queue");
      }
    }
    const now = clock.now();
    const range = analyticsRange(now, days, granularity);
    const rows = await store.analytics.rows({
      span: granularity,
      visible: this.access.visibility,
      ...(applicationId === undefined ? {} : { applicationId }),
      ...(queueId === undefined ? {} : { queueId }),
      from: iso(range.from),
      to: iso(range.to),
      limit: MAX_ANALYTICS_ROWS + 1,
    });
    if (rows.length > MAX_ANALYTICS_ROWS) {
      throw errors.validation(
        "app_id",
        `this question covers more than ${MAX_ANALYTICS_ROWS} stored periods: ask about one application, fewer days, or by day`,
      );
    }
    const folded = foldSeries(rows.map(storedHour), range, granularity);
    return {
      application_id: applicationId ?? null,
      queue_id: queueId ?? null,
      days,
      granularity,
      from: iso(folded.from),
      to: iso(folded.to),
      generated_at: iso(now),
      series: folded.series.map(({ start, ...point }) => ({ start: iso(start), ...point })),
      totals: folded.totals,
    };
  }

  async callbackErrors(page: PageRequest, applicationId?: string): Promise<Page<DeadLetter>> {
    if (applicationId !== undefined) this.requireVisible(applicationId);
    this.access.require("queue:read");
    return this.deps.store.dashboard.listDeadLetters(
      applicationId === undefined
        ? { visible: this.access.visibility }
        : { visible: this.access.visibility, applicationId },
      page,
    );
  }

  private async deadLetter(id: string): Promise<DeadLetter> {
    const found = await this.deps.store.dashboard.findDeadLetter(id);
    if (found === undefined || !this.access.canSee(found.application_id))
      throw errors.notFound("callback error");
    return found;
  }

  /** Puts a dead letter's callback back for delivery, with fresh attempts, now. */
  async retry(id: string): Promise<void> {
    await this.deadLetter(id);
    this.access.require("queue:write");
    if (!(await this.deps.store.dashboard.retryDeadLetter(id, iso(this.deps.clock.now())))) {
      throw errors.notFound("callback error");
    }
  }

  /** Discards a dead letter: its callback is not sent again. */
  async discard(id: string): Promise<void> {
    await this.deadLetter(id);
    this.access.require("queue:write");
    if (!(await this.deps.store.dashboard.discardDeadLetter(id))) throw errors.notFound("callback error");
  }
}
