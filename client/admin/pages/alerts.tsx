import { useState } from "preact/hooks";
import { get, query } from "../api.js";
import { dateTime, t } from "../i18n.js";
import type { Alert, Page } from "../types.js";
import { AppSelect, Field, Loading, Pager, useApplications, useLoad } from "../ui.js";

const LIMIT = 50;

/** `details` as "key: value" pairs (figures at the time the alert fired). */
function details(alert: Alert): string {
  return Object.entries(alert.details)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(", ");
}

/** The alert history, newest first: every application the caller sees, or one; firing or resolved. */
export function AlertsPage() {
  const apps = useApplications();
  const [appId, setAppId] = useState("");
  const [state, setState] = useState("");
  const [offset, setOffset] = useState(0);
  const alerts = useLoad(
    () => get<Page<Alert>>(`/dashboard/alerts${query({ app_id: appId, state, limit: LIMIT, offset })}`),
    `${appId}-${state}-${offset}`,
  );
  const names = new Map((apps.data?.items ?? []).map((app) => [app.id, app.name]));
  return (
    <section>
      <h1>{t("alerts.title")}</h1>
      <div class="toolbar">
        {apps.data === undefined ? null : (
          <AppSelect
            apps={apps.data.items}
            value={appId}
            allowAll
            onChange={(id) => {
              setOffset(0);
              setAppId(id);
            }}
          />
        )}
        <Field label={t("alerts.state")}>
          <select
            value={state}
            onChange={(event) => {
              setOffset(0);
              setState(event.currentTarget.value);
            }}
          >
            <option value="">{t("alerts.any_state")}</option>
            <option value="firing">{t("alerts.state_firing")}</option>
            <option value="resolved">{t("alerts.state_resolved")}</option>
          </select>
        </Field>
      </div>
      {alerts.data === undefined ? (
        <Loading loaded={alerts} />
      ) : alerts.data.items.length === 0 ? (
        <p>{t("alerts.none")}</p>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("alerts.kind")}</th>
                  <th scope="col">{t("alerts.state")}</th>
                  <th scope="col">{t("alerts.subject")}</th>
                  <th scope="col">{t("alerts.fired")}</th>
                  <th scope="col">{t("alerts.resolved_at")}</th>
                  <th scope="col">{t("alerts.details")}</th>
                </tr>
              </thead>
              <tbody>
                {alerts.data.items.map((alert) => (
                  <tr key={alert.id}>
                    <td>{t(`alerts.kind_${alert.kind}`)}</td>
                    <td>
                      <span class={`badge badge-${alert.state}`}>{t(`alerts.state_${alert.state}`)}</span>
                    </td>
                    <td class="breakable">
                      {alert.application_id === null
                        ? t("alerts.system")
                        : (names.get(alert.application_id) ?? alert.application_id)}
                      <br />
                      <span class="mono muted">{alert.subject}</span>
                    </td>
                    <td>{dateTime(alert.fired_at)}</td>
                    <td>{dateTime(alert.resolved_at)}</td>
                    <td class="mono breakable">{details(alert)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} limit={LIMIT} total={alerts.data.total} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
