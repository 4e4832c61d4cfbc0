import { useState } from "preact/hooks";
import { api, get, query } from "../api.js";
import { dateTime, num, t } from "../i18n.js";
import type { CallbackError, Me, Page } from "../types.js";
import { AppSelect, ErrorBox, Loading, Pager, useAction, useApplications, useLoad } from "../ui.js";

const LIMIT = 50;

/** Dead-lettered callbacks of one application, with retry and discard (operators and admins). */
export function CallbacksPage({ me, appId }: { me: Me; appId?: string }) {
  const apps = useApplications();
  const chosen = appId ?? (apps.data?.items.length === 1 ? (apps.data.items[0]?.id ?? "") : "");
  const [offset, setOffset] = useState(0);
  const errors = useLoad(
    () =>
      chosen === ""
        ? Promise.resolve(undefined)
        : get<Page<CallbackError>>(
            `/dashboard/callback_errors${query({ app_id: chosen, limit: LIMIT, offset })}`,
          ),
    `${chosen}-${offset}`,
  );
  const action = useAction();
  const [done, setDone] = useState<string | undefined>(undefined);
  const canWrite = me.role !== "viewer";

  const act = (item: CallbackError, kind: "retry" | "discard") => {
    if (kind === "discard" && !window.confirm(t("callbacks.discard_confirm"))) return;
    setDone(undefined);
    void action
      .run(async () => {
        if (kind === "retry") await api("POST", `/dashboard/callback_errors/${item.id}/retry`);
        else await api("DELETE", `/dashboard/callback_errors/${item.id}`);
        setDone(kind === "retry" ? t("callbacks.retried") : t("callbacks.discarded"));
      })
      .then(() => errors.reload());
  };

  return (
    <section>
      <h1>{t("callbacks.title")}</h1>
      <p class="muted">{t("callbacks.intro")}</p>
      <div class="toolbar">
        {apps.data === undefined ? (
          <Loading loaded={apps} />
        ) : (
          <AppSelect
            apps={apps.data.items}
            value={chosen}
            onChange={(id) => {
              setOffset(0);
              location.hash = `#/callbacks/${id}`;
            }}
          />
        )}
      </div>
      <ErrorBox error={action.error} />
      {done === undefined ? null : (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {chosen === "" ? (
        <p>{t("analytics.choose")}</p>
      ) : errors.data === undefined ? (
        <Loading loaded={errors} />
      ) : errors.data.items.length === 0 ? (
        <p>{t("callbacks.none")}</p>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("callbacks.created")}</th>
                  <th scope="col">{t("callbacks.url")}</th>
                  <th scope="col">{t("callbacks.attempts")}</th>
                  <th scope="col">{t("callbacks.last_error")}</th>
                  {canWrite ? (
                    <th scope="col">
                      <span class="visually-hidden">{t("common.actions")}</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {errors.data.items.map((item) => (
                  <tr key={item.id} data-dead-letter={item.id}>
                    <td>{dateTime(item.created_at)}</td>
                    <td class="mono breakable" dir="ltr">
                      {item.url}
                    </td>
                    <td>{num(item.attempts)}</td>
                    <td class="breakable">
                      {item.last_status === null ? t("callbacks.no_answer") : `HTTP ${item.last_status}`}
                      {item.last_error === null ? null : (
                        <>
                          <br />
                          <span class="mono">{item.last_error}</span>
                        </>
                      )}
                    </td>
                    {canWrite ? (
                      <td>
                        <div class="actions">
                          <button type="button" disabled={action.busy} onClick={() => act(item, "retry")}>
                            {t("callbacks.retry")}
                          </button>
                          <button
                            type="button"
                            class="danger"
                            disabled={action.busy}
                            onClick={() => act(item, "discard")}
                          >
                            {t("callbacks.discard")}
                          </button>
                        </div>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager offset={offset} limit={LIMIT} total={errors.data.total} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
