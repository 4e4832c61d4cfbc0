import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type uPlot from "uplot";
import { get, query } from "../api.js";
import { Chart } from "../chart.js";
import { duration, num, t } from "../i18n.js";
import type { QueueStats } from "../types.js";
import { AppSelect, ErrorBox, Loading, Stat, useApplications } from "../ui.js";

export const POLL_MS = 2_000;

/** One reading of a queue's figures, at the browser's time. */
interface Reading {
  at: number;
  stats: QueueStats;
}

/** Points kept per queue: an hour at one reading every 2 s. */
const KEEP = 1_800;

/**
 * Joins a minute between two readings of the `joined_total` counter (null for the first reading, or when
 * the counter went back, e.g. after a restore).
 */
export function joinRate(previous: Reading | undefined, next: Reading): number | null {
  if (previous === undefined) return null;
  const minutes = (next.at - previous.at) / 60_000;
  const joined = next.stats.joined_total - previous.stats.joined_total;
  if (minutes <= 0 || joined < 0) return null;
  return joined / minutes;
}

/** Polls the application's queue stats every 2 s while the tab is visible, keeping every reading. */
function useQueueStats(appId: string) {
  const [history, setHistory] = useState<Map<string, Reading[]>>(new Map());
  const [latest, setLatest] = useState<QueueStats[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [paused, setPaused] = useState(document.visibilityState !== "visible");
  const store = useRef(new Map<string, Reading[]>());

  useEffect(() => {
    store.current = new Map();
    setHistory(new Map());
    setLatest(undefined);
    setError(undefined);
    if (appId === "") return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      timer = undefined;
      if (document.visibilityState !== "visible") {
        setPaused(true);
        return;
      }
      setPaused(false);
      try {
        const answer = await get<{ items: QueueStats[] }>(
          `/dashboard/queue_stats${query({ app_id: appId })}`,
        );
        if (stopped) return;
        const at = Date.now();
        for (const stats of answer.items) {
          // A new array each time: the chart redraws when its data is another array.
          const readings = [...(store.current.get(stats.queue_id) ?? []), { at, stats }].slice(-KEEP);
          store.current.set(stats.queue_id, readings);
        }
        setLatest(answer.items);
        setHistory(new Map(store.current));
        setError(undefined);
      } catch (caught) {
        if (stopped) return;
        setError(caught);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    const visibility = () => {
      if (document.visibilityState === "visible" && timer === undefined && !stopped) void poll();
      else if (document.visibilityState !== "visible") setPaused(true);
    };
    document.addEventListener("visibilitychange", visibility);
    void poll();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener("visibilitychange", visibility);
    };
  }, [appId]);
  return { history, latest, error, paused };
}

function QueueLive({ stats, readings }: { stats: QueueStats; readings: Reading[] }) {
  const last = readings[readings.length - 1];
  const joinsNow = last === undefined ? null : joinRate(readings[readings.length - 2], last);
  const data = useMemo<uPlot.AlignedData>(() => {
    const x: number[] = [];
    const waiting: number[] = [];
    const joins: (number | null)[] = [];
    const releases: number[] = [];
    readings.forEach((reading, index) => {
      x.push(reading.at / 1000);
      waiting.push(reading.stats.waiting);
      joins.push(joinRate(readings[index - 1], reading));
      releases.push(reading.stats.released_last_minute);
    });
    return [x, waiting, joins, releases];
  }, [readings]);
  const rateState =
    stats.waiting > 0 && stats.measured_rate_per_minute < stats.configured_rate_per_minute * 0.5
      ? "slow"
      : "ok";
  return (
    <article class="live-queue" data-queue={stats.queue_id}>
      <h2 class="breakable">
        {stats.name}
        {stats.mode === "simulation" ? <span class="badge">{t("queues.mode_simulation")}</span> : null}
      </h2>
      <div class="stats">
        <Stat label={t("live.waiting")} value={num(stats.waiting)} />
        <Stat
          label={t("live.release_rate")}
          value={t("live.per_minute", { rate: num(stats.measured_rate_per_minute, 1) })}
          note={t("live.configured", { rate: stats.configured_rate_per_minute })}
        />
        <Stat label={t("live.released_last_minute")} value={num(stats.released_last_minute)} />
        <Stat
          label={t("live.join_rate")}
          value={joinsNow === null ? "—" : t("live.per_minute", { rate: num(joinsNow, 1) })}
          note={t("live.joined_total", { count: stats.joined_total })}
        />
        <Stat label={t("live.longest_wait")} value={duration(stats.longest_wait_seconds)} />
        <Stat label={t("live.drain")} value={duration(stats.estimated_drain_seconds)} />
        <Stat label={t("live.admitted_active")} value={num(stats.admitted_active)} />
        <Stat
          label={t("live.callbacks")}
          value={t("live.callbacks_value", {
            pending: stats.callbacks.pending,
            failed: stats.callbacks.failed,
          })}
        />
      </div>
      {rateState === "slow" ? (
        <p class="warning" role="status">
          {t("live.rate_behind")}
        </p>
      ) : null}
      <Chart
        id={`live-chart-${stats.queue_id}`}
        title={t("live.chart")}
        series={[
          { label: t("live.series_waiting"), color: 1, right: true },
          { label: t("live.series_joins"), color: 2 },
          { label: t("live.series_releases"), color: 3, dashed: true },
        ]}
        data={data}
      />
    </article>
  );
}

/** The live view: one application's queues (or one of them), refreshed every 2 s without a reload. */
export function LivePage({ appId, queueId }: { appId?: string; queueId?: string }) {
  const apps = useApplications();
  const chosen = appId ?? (apps.data?.items.length === 1 ? (apps.data.items[0]?.id ?? "") : "");
  const live = useQueueStats(chosen);
  const shown = (live.latest ?? []).filter((stats) => queueId === undefined || stats.queue_id === queueId);
  return (
    <section>
      <h1>{t("live.title")}</h1>
      <div class="toolbar">
        {apps.data === undefined ? (
          <Loading loaded={apps} />
        ) : (
          <AppSelect
            apps={apps.data.items}
            value={chosen}
            onChange={(id) => {
              location.hash = `#/live/${id}`;
            }}
          />
        )}
        <p class="muted" aria-live="polite">
          {live.paused ? t("live.paused") : t("live.polling", { seconds: POLL_MS / 1000 })}
        </p>
      </div>
      {queueId === undefined || chosen === "" ? null : (
        <p>
          <a href={`#/live/${chosen}`}>{t("live.all_queues")}</a>
        </p>
      )}
      <ErrorBox error={live.error} />
      {chosen === "" ? (
        <p>{t("live.choose")}</p>
      ) : live.latest === undefined ? (
        live.error === undefined ? (
          <p class="muted">{t("common.loading")}</p>
        ) : null
      ) : shown.length === 0 ? (
        <p>{t("live.no_queues")}</p>
      ) : (
        shown.map((stats) => (
          <QueueLive key={stats.queue_id} stats={stats} readings={live.history.get(stats.queue_id) ?? []} />
        ))
      )}
    </section>
  );
}
