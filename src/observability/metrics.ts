import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { QueueMode } from "../domain/model.js";
import { HttpDurations } from "./http-durations.js";

/** What the scrape reports of each live queue. */
export interface QueueFigures {
  queueId: string;
  applicationId: string;
  name: string;
  mode: QueueMode;
  /** Visitors waiting. */
  size: number;
  ratePerMinute: number;
}

/**
 * Prometheus metrics with the seed's names. Labels come from fixed sets, except `queue`, which is a queue
 * id: the first `maxQueues` ids seen get their own series and any beyond share `queue="other"`, so a
 * tenant creating many queues cannot blow up the time-series count. `mode` keeps simulation apart from live.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly queueLabels = new Set<string>();

  readonly joined: Counter<"queue" | "mode">;
  readonly released: Counter<"queue" | "mode">;
  readonly expired: Counter<"queue" | "mode" | "reason">;
  readonly cancelled: Counter<"queue" | "mode">;
  readonly callbackSuccess: Counter<"queue">;
  readonly callbackFailure: Counter<"queue" | "final">;
  readonly callbackDuration: Histogram<"queue">;
  readonly queueSize: Gauge<"queue" | "mode">;
  readonly configuredRate: Gauge<"queue" | "mode">;
  readonly queueInfo: Gauge<"queue" | "application" | "name">;
  readonly liveStreams: Gauge;
  readonly httpDuration = new HttpDurations();

  constructor(
    private readonly maxQueues = 500,
    options: { defaultMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    this.joined = new Counter({
      name: "queue_users_joined_total",
      help: "Visitors who joined a queue (new places, not idempotent re-joins)",
      labelNames: ["queue", "mode"],
      registers,
    });
    this.released = new Counter({
      name: "queue_users_released_total",
      help: "Visitors released from a queue",
      labelNames: ["queue", "mode"],
      registers,
    });
    this.expired = new Counter({
      name: "queue_users_expired_total",
      help: "Visitors expired: abandoned while waiting, or released and never seen",
      labelNames: ["queue", "mode", "reason"],
      registers,
    });
    this.cancelled = new Counter({
      name: "queue_users_cancelled_total",
      help: "Visitors who gave up their place",
      labelNames: ["queue", "mode"],
      registers,
    });
    this.callbackSuccess = new Counter({
      name: "callback_success_total",
      help: "Callbacks delivered (2xx)",
      labelNames: ["queue"],
      registers,
    });
    this.callbackFailure = new Counter({
      name: "callback_failure_total",
      help: "Failed callback attempts; final=true when it was the last attempt (dead-lettered)",
      labelNames: ["queue", "final"],
      registers,
    });
    this.callbackDuration = new Histogram({
      name: "callback_duration_seconds",
      help: "Duration of callback attempts",
      labelNames: ["queue"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueSize = new Gauge({
      name: "queue_size",
      help: "Visitors waiting in a queue",
      labelNames: ["queue", "mode"],
      registers,
    });
    this.configuredRate = new Gauge({
      name: "queue_release_rate_configured_per_minute",
      help: "A queue's configured release rate (max_users_per_minute)",
      labelNames: ["queue", "mode"],
      registers,
    });
    this.queueInfo = new Gauge({
      name: "queue_info",
      help: "Always 1: a live queue's application and name (join on `queue` to filter or label by them)",
      labelNames: ["queue", "application", "name"],
      registers,
    });
    this.liveStreams = new Gauge({
      name: "anteroom_live_update_streams",
      help: "Live-update streams (GET /queue_events) this API process holds",
      registers,
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "anteroom_" });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole exposition: the registry's metrics and the hand-kept HTTP histogram. */
  async render(): Promise<string> {
    return `${await this.registry.metrics()}\n${this.httpDuration.render()}`;
  }

  /** The `queue` label for a queue id, within the cardinality budget. */
  queue(queueId: string): string {
    if (this.queueLabels.has(queueId)) return queueId;
    if (this.queueLabels.size >= this.maxQueues) return "other";
    this.queueLabels.add(queueId);
    return queueId;
  }

  labels(queueId: string, mode: QueueMode): { queue: string; mode: QueueMode } {
    return { queue: this.queue(queueId), mode };
  }

  /** Sets anteroom_live_update_streams from a source consulted at scrape time. */
  collectLiveStreams(source: () => number): void {
    const gauge = this.liveStreams;
    (gauge as unknown as { collect: () => void }).collect = () => gauge.set(source());
  }

  /**
   * Sets queue_size, queue_release_rate_configured_per_minute and queue_info from a source consulted at
   * scrape time (once per scrape, shared by the three).
   */
  collectQueueSizes(source: () => Promise<QueueFigures[]>): void {
    const gauge = this.queueSize;
    const label = (queueId: string, mode: QueueMode) => this.labels(queueId, mode);
    let latest: Promise<QueueFigures[]> | undefined;
    // prom-client collects the metrics one after another within a scrape: the first asks the source, the
    // others reuse its answer, and the next scrape asks again.
    const read = (first: boolean): Promise<QueueFigures[]> => {
      if (first || latest === undefined) latest = source();
      return latest;
    };
    (this.configuredRate as unknown as { collect: () => Promise<void> }).collect = async () => {
      this.configuredRate.reset();
      for (const { queueId, mode, ratePerMinute } of await read(false)) {
        const labels = label(queueId, mode);
        if (labels.queue !== "other") this.configuredRate.set(labels, ratePerMinute);
      }
    };
    (this.queueInfo as unknown as { collect: () => Promise<void> }).collect = async () => {
      this.queueInfo.reset();
      for (const { queueId, mode, applicationId, name } of await read(false)) {
        const { queue } = label(queueId, mode);
        if (queue !== "other") this.queueInfo.set({ queue, application: applicationId, name }, 1);
      }
    };
    // prom-client calls collect() on the metric at scrape time.
    (gauge as unknown as { collect: () => Promise<void> }).collect = async () => {
      gauge.reset();
      const totals = new Map<string, { labels: { queue: string; mode: QueueMode }; size: number }>();
      for (const { queueId, mode, size } of await read(true)) {
        const labels = label(queueId, mode);
        const key = `${labels.queue}\n${mode}`;
        const entry = totals.get(key) ?? { labels, size: 0 };
        entry.size += size;
        totals.set(key, entry);
      }
      for (const { labels, size } of totals.values()) gauge.set(labels, size);
    };
  }
}
