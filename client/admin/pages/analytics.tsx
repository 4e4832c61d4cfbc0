import { useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { get, query } from "../api.js";
import { Chart } from "../chart.js";
import { dateTime, duration, num, percent, t } from "../i18n.js";
import type { Analytics, Page, Queue } from "../types.js";
import { AppSelect, Field, Loading, Stat, useApplications, useLoad } from "../ui.js";

const DAYS = [1, 7, 14, 30, 90];
type Granularity = "day" | "hour";

const minutes = (ms: number | null) => (ms === null ? null : ms / 60_000);

/** Analytics of an application (or one queue): joins and releases, and the wait's percentiles, by day or hour. */
export function AnalyticsPage({ appId }: { appId?: string }) {
  const apps = useApplications();
  const chosen = appId ?? (apps.data?.items.length === 1 ? (apps.data.items[0]?.id ?? "") : "");
  const [queueId, setQueueId] = useState("");
  const [days, setDays] = useState(7);
  const [granularity, setGranularity] = useState<Granularity>("day");
  const queues = useLoad(
    () =>
      chosen === ""
        ? Promise.resolve(undefined)
        : get<Page<Queue>>(`/queues/${query({ application_id: chosen, limit: 200 })}`),
    `queues-${chosen}`,
  );
  const analytics = useLoad(
    () =>
      chosen === ""
        ? Promise.resolve(undefined)
        : get<Analytics>(
            `/dashboard/analytics${query({ app_id: chosen, queue_id: queueId, days, granularity })}`,
          ),
    `${chosen}-${queueId}-${days}-${granularity}`,
  );
  const data = analytics.data;
  const charts = useMemo(() => {
    if (data === undefined) return undefined;
    const x = data.series.map((bucket) => Date.parse(bucket.start) / 1000);
    const traffic: uPlot.AlignedData = [
      x,
      data.series.map((bucket) => bucket.joins),
      data.series.map((bucket) => bucket.releases),
    ];
    const wait: uPlot.AlignedData = [
      x,
      data.series.map((bucket) => minutes(bucket.wait_ms.p50)),
      data.series.map((bucket) => minutes(bucket.wait_ms.p90)),
      data.series.map((bucket) => minutes(bucket.wait_ms.p99)),
    ];
    return { traffic, wait };
  }, [data]);
  const totals = data?.totals;
  return (
    <section>
      <h1>{t("analytics.title")}</h1>
      <div class="toolbar">
        {apps.data === undefined ? (
          <Loading loaded={apps} />
        ) : (
          <AppSelect
            apps={apps.data.items}
            value={chosen}
            onChange={(id) => {
              setQueueId("");
              location.hash = `#/analytics/${id}`;
            }}
          />
        )}
        {queues.data === undefined ? null : (
          <Field label={t("analytics.queue")}>
            <select value={queueId} onChange={(event) => setQueueId(event.currentTarget.value)}>
              <option value="">{t("analytics.all_queues")}</option>
              {queues.data.items.map((queue) => (
                <option key={queue.id} value={queue.id}>
                  {queue.name}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label={t("analytics.days")}>
          <select value={String(days)} onChange={(event) => setDays(Number(event.currentTarget.value))}>
            {DAYS.map((count) => (
              <option key={count} value={String(count)}>
                {t("analytics.last_days", { days: count })}
              </option>
            ))}
          </select>
        </Field>
        <fieldset class="field">
          <legend class="label">{t("analytics.granularity")}</legend>
          <div class="segmented">
            {(["day", "hour"] as const).map((value) => (
              <button
                key={value}
                type="button"
                aria-pressed={granularity === value}
                onClick={() => setGranularity(value)}
              >
                {t(`analytics.${value}`)}
              </button>
            ))}
          </div>
        </fieldset>
      </div>
      {chosen === "" ? (
        <p>{t("analytics.choose")}</p>
      ) : data === undefined || charts === undefined || totals === undefined ? (
        <Loading loaded={analytics} />
      ) : (
        <>
          {analytics.error === undefined ? null : <Loading loaded={analytics} />}
          <p class="muted">{t("analytics.range", { from: dateTime(data.from), to: dateTime(data.to) })}</p>
          <Chart
            id="analytics-traffic"
            title={t("analytics.traffic")}
            series={[
              { label: t("analytics.joins"), color: 2 },
              { label: t("analytics.releases"), color: 3 },
            ]}
            data={charts.traffic}
            time={data.granularity}
          />
          <Chart
            id="analytics-wait"
            title={t("analytics.wait")}
            series={[
              { label: t("analytics.p50"), color: 1 },
              { label: t("analytics.p90"), color: 4 },
              { label: t("analytics.p99"), color: 2, dashed: true },
            ]}
            data={charts.wait}
            time={data.granularity}
          />
          <h2>{t("analytics.totals")}</h2>
          <div class="stats">
            <Stat label={t("analytics.joins")} value={num(totals.joins)} />
            <Stat label={t("analytics.releases")} value={num(totals.releases)} />
            <Stat label={t("analytics.cancels")} value={num(totals.cancels)} />
            <Stat
              label={t("analytics.expired")}
              value={num(totals.expired.abandoned + totals.expired.not_seen + totals.expired.admission_ended)}
              note={t("summary.expired_detail", {
                abandoned: totals.expired.abandoned,
                not_seen: totals.expired.not_seen,
                admission_ended: totals.expired.admission_ended,
              })}
            />
            <Stat label={t("analytics.peak_waiting")} value={num(totals.peak_waiting)} />
            <Stat
              label={t("analytics.median_wait")}
              value={duration(totals.wait_ms.p50 === null ? null : totals.wait_ms.p50 / 1000)}
              note={`p90 ${duration(totals.wait_ms.p90 === null ? null : totals.wait_ms.p90 / 1000)}, p99 ${duration(totals.wait_ms.p99 === null ? null : totals.wait_ms.p99 / 1000)}`}
            />
            <Stat label={t("analytics.callbacks_delivered")} value={num(totals.callbacks.delivered)} />
            <Stat label={t("analytics.callbacks_failed")} value={num(totals.callbacks.failed)} />
            <Stat
              label={t("analytics.success_rate")}
              value={totals.callbacks.success_rate === null ? "—" : percent(totals.callbacks.success_rate)}
            />
            <Stat
              label={t("analytics.callback_p95")}
              value={
                totals.callbacks.duration_p95_ms === null
                  ? "—"
                  : `${num(totals.callbacks.duration_p95_ms)} ms`
              }
            />
          </div>
        </>
      )}
    </section>
  );
}
