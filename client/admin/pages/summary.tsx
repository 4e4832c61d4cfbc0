import { useEffect } from "preact/hooks";
import { get } from "../api.js";
import { dateTime, num, t } from "../i18n.js";
import type { Summary } from "../types.js";
import { Loading, Stat, useLoad } from "../ui.js";

/** The landing view: the deployment at a glance, refreshed every 10 s while the tab is visible. */
export function SummaryPage() {
  const summary = useLoad(() => get<Summary>("/dashboard/summary"), "summary");
  const { reload } = summary;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, 10_000);
    return () => clearInterval(timer);
  }, [reload]);
  const data = summary.data;
  return (
    <section>
      <h1>{t("summary.title")}</h1>
      {data === undefined ? (
        <Loading loaded={summary} />
      ) : (
        <>
          <div class="stats">
            <Stat label={t("summary.waiting")} value={num(data.waiting)} />
            <Stat label={t("summary.released_hour")} value={num(data.released.last_hour)} />
            <Stat label={t("summary.released_today")} value={num(data.released.today)} />
            <Stat
              label={t("summary.expired_today")}
              value={num(
                data.expired_today.abandoned +
                  data.expired_today.not_seen +
                  data.expired_today.admission_ended,
              )}
              note={t("summary.expired_detail", {
                abandoned: data.expired_today.abandoned,
                not_seen: data.expired_today.not_seen,
                admission_ended: data.expired_today.admission_ended,
              })}
            />
            <Stat
              label={t("summary.callbacks_failed")}
              value={num(data.callbacks.failed_today)}
              note={t("summary.dead_letters", { count: data.callbacks.dead_letters })}
            />
            <Stat
              label={t("summary.applications")}
              value={num(data.applications)}
              note={t("summary.queues", { count: data.queues })}
            />
          </div>
          <h2>{t("summary.health")}</h2>
          <p class={`health health-${data.health.status}`}>
            <span class="badge">{t(`health.${data.health.status}`)}</span>{" "}
            {t("summary.components", {
              record: t(`health.${data.health.record}`),
              index: t(`health.${data.health.index}`),
            })}
          </p>
          <div class="table-wrap">
            <table>
              <caption>{t("summary.workers")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("summary.worker")}</th>
                  <th scope="col">{t("summary.worker_status")}</th>
                  <th scope="col">{t("summary.last_seen")}</th>
                </tr>
              </thead>
              <tbody>
                {data.health.workers.length === 0 ? (
                  <tr>
                    <td colSpan={3}>{t("summary.no_workers")}</td>
                  </tr>
                ) : (
                  data.health.workers.map((worker) => (
                    <tr key={worker.id}>
                      <td class="mono">
                        {worker.host === undefined ? worker.id : `${worker.host} (${worker.pid ?? "?"})`}
                      </td>
                      <td>
                        <span class={`badge badge-${worker.status}`}>{t(`health.${worker.status}`)}</span>
                      </td>
                      <td>{dateTime(worker.last_seen_at)}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          <p class="muted">{t("summary.generated", { time: dateTime(data.generated_at) })}</p>
        </>
      )}
    </section>
  );
}
