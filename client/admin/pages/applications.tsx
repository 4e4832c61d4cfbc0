import { useState } from "preact/hooks";
import { api, get } from "../api.js";
import { num, t } from "../i18n.js";
import type { Application, CreatedApplication, Me, Page, Queue } from "../types.js";
import {
  ErrorBox,
  Field,
  type FormEvent,
  formOf,
  integer,
  Loading,
  text,
  useAction,
  useApplications,
  useLoad,
} from "../ui.js";

/** The body of a create or an update from the application form (empty limits become null). */
function applicationBody(form: FormData, isAdmin: boolean): Record<string, unknown> {
  const emails = (text(form, "alert_emails") ?? "")
    .split(/[\s,]+/)
    .map((email) => email.trim())
    .filter((email) => email !== "");
  return {
    name: text(form, "name") ?? "",
    domain: text(form, "domain") ?? "",
    callback_url: text(form, "callback_url") ?? "",
    origin_policy: text(form, "origin_policy") ?? "domain",
    max_users_per_minute: integer(form, "max_users_per_minute") ?? null,
    ...(isAdmin ? { max_joins_per_second: integer(form, "max_joins_per_second") ?? null } : {}),
    frame_ancestors: text(form, "frame_ancestors") ?? null,
    alert_emails: emails,
  };
}

function ApplicationForm({
  app,
  me,
  onSubmit,
  busy,
  label,
}: {
  app?: Application;
  me: Me;
  onSubmit: (event: FormEvent) => void;
  busy: boolean;
  label: string;
}) {
  const readOnly = me.role === "viewer";
  return (
    <form onSubmit={onSubmit} class="grid-form">
      <fieldset disabled={readOnly || busy}>
        <Field label={t("apps.name")}>
          <input name="name" required maxLength={200} defaultValue={app?.name ?? ""} />
        </Field>
        <Field label={t("apps.domain")} hint={t("apps.domain_hint")}>
          <input name="domain" required maxLength={253} defaultValue={app?.domain ?? ""} dir="ltr" />
        </Field>
        <Field label={t("apps.callback_url")} hint={t("apps.callback_hint")}>
          <input
            name="callback_url"
            type="url"
            required
            maxLength={2048}
            defaultValue={app?.callback_url ?? ""}
            dir="ltr"
          />
        </Field>
        <Field label={t("apps.origin_policy")}>
          <select name="origin_policy" defaultValue={app?.origin_policy ?? "domain"}>
            <option value="domain">{t("apps.origin_domain")}</option>
            <option value="subdomains">{t("apps.origin_subdomains")}</option>
          </select>
        </Field>
        <Field label={t("apps.shared_rate")} hint={t("apps.shared_rate_hint")}>
          <input
            name="max_users_per_minute"
            type="number"
            min={1}
            max={1000000}
            defaultValue={app?.max_users_per_minute?.toString() ?? ""}
          />
        </Field>
        {me.role === "admin" ? (
          <Field label={t("apps.joins_per_second")} hint={t("apps.joins_per_second_hint")}>
            <input
              name="max_joins_per_second"
              type="number"
              min={1}
              max={1000000}
              defaultValue={app?.max_joins_per_second?.toString() ?? ""}
            />
          </Field>
        ) : null}
        <Field label={t("apps.frame_ancestors")} hint={t("apps.frame_ancestors_hint")}>
          <input
            name="frame_ancestors"
            maxLength={4096}
            defaultValue={app?.frame_ancestors ?? ""}
            dir="ltr"
          />
        </Field>
        <Field label={t("apps.alert_emails")} hint={t("apps.alert_emails_hint")}>
          <textarea
            name="alert_emails"
            rows={2}
            defaultValue={(app?.alert_emails ?? []).join("\n")}
            dir="ltr"
          />
        </Field>
        {readOnly ? null : (
          <div class="actions">
            <button type="submit" class="primary">
              {label}
            </button>
          </div>
        )}
      </fieldset>
    </form>
  );
}

/** Applications: the list, and (admins) a new one; its secrets are shown once. */
export function ApplicationsPage({ me }: { me: Me }) {
  const apps = useApplications();
  const create = useAction();
  const [created, setCreated] = useState<CreatedApplication | undefined>(undefined);
  const [formKey, setFormKey] = useState(0);
  const submit = (event: FormEvent) => {
    const body = applicationBody(formOf(event), me.role === "admin");
    void create.run(async () => {
      setCreated(await api<CreatedApplication>("POST", "/applications/", body));
      setFormKey((k) => k + 1);
      apps.reload();
    });
  };
  return (
    <section>
      <h1>{t("apps.title")}</h1>
      <Loading loaded={apps} />
      {apps.data === undefined ? null : apps.data.items.length === 0 ? (
        <p>{t("apps.none")}</p>
      ) : (
        <ul class="cards">
          {apps.data.items.map((app) => (
            <li key={app.id} class="card">
              <a href={`#/apps/${app.id}`} class="card-title">
                {app.name}
              </a>
              <span class="muted" dir="ltr">
                {app.domain}
              </span>
              <a href={`#/live/${app.id}`}>{t("apps.open_live")}</a>
            </li>
          ))}
        </ul>
      )}
      {created === undefined ? null : <Secrets created={created} />}
      {me.role === "admin" ? (
        <details class="panel">
          <summary>{t("apps.create")}</summary>
          <ErrorBox error={create.error} />
          <ApplicationForm
            key={formKey}
            me={me}
            onSubmit={submit}
            busy={create.busy}
            label={t("apps.create")}
          />
        </details>
      ) : null}
    </section>
  );
}

function Secrets({ created }: { created: CreatedApplication }) {
  return (
    <div class="panel secrets" role="status">
      <h2>{t("apps.created", { name: created.name })}</h2>
      <p>{t("apps.secrets_once")}</p>
      <dl>
        <dt>{t("apps.api_key")}</dt>
        <dd class="mono" dir="ltr">
          {created.api_key}
        </dd>
        <dt>{t("apps.webhook_secret")}</dt>
        <dd class="mono" dir="ltr">
          {created.webhook_secret}
        </dd>
        <dt>{t("apps.publishable_key")}</dt>
        <dd class="mono" dir="ltr">
          {created.publishable_key}
        </dd>
      </dl>
      <a href={`#/apps/${created.id}`}>{t("apps.add_queue")}</a>
    </div>
  );
}

type Rotation = "rotate-key" | "rotate-webhook-secret" | "rotate-publishable-key";

/** Replaces a key or the webhook secret (operators and admins); the new value is shown once. */
function Rotations({ id, onRotated }: { id: string; onRotated: () => void }) {
  const action = useAction();
  const [shown, setShown] = useState<{ label: string; value: string } | undefined>(undefined);
  const rotations: { path: Rotation; label: string; confirm: string; field: string }[] = [
    {
      path: "rotate-key",
      label: t("apps.rotate_api_key"),
      confirm: t("apps.rotate_confirm"),
      field: "api_key",
    },
    {
      path: "rotate-publishable-key",
      label: t("apps.rotate_publishable_key"),
      confirm: t("apps.rotate_confirm"),
      field: "publishable_key",
    },
    {
      path: "rotate-webhook-secret",
      label: t("apps.rotate_webhook_secret"),
      confirm: t("apps.rotate_webhook_confirm"),
      field: "webhook_secret",
    },
  ];
  const rotate = (rotation: (typeof rotations)[number]) => {
    if (!window.confirm(rotation.confirm)) return;
    setShown(undefined);
    void action.run(async () => {
      const answer = await api<Record<string, unknown>>("POST", `/applications/${id}/${rotation.path}`);
      const value = answer[rotation.field];
      setShown({ label: rotation.label, value: typeof value === "string" ? value : "" });
      onRotated();
    });
  };
  return (
    <>
      <h2>{t("apps.rotate_title")}</h2>
      <div class="actions">
        {rotations.map((rotation) => (
          <button key={rotation.path} type="button" disabled={action.busy} onClick={() => rotate(rotation)}>
            {rotation.label}
          </button>
        ))}
      </div>
      <ErrorBox error={action.error} />
      {shown === undefined ? null : (
        <div class="panel secrets" role="status">
          <p>{t("apps.rotated")}</p>
          <p class="mono" dir="ltr" data-rotated>
            {shown.value}
          </p>
        </div>
      )}
    </>
  );
}

/** One application: its settings (editable by operators and admins) and its queues. */
export function ApplicationPage({ me, id }: { me: Me; id: string }) {
  const app = useLoad(() => get<Application>(`/applications/${id}`), id);
  const queues = useLoad(
    () => get<Page<Queue>>(`/queues/?application_id=${encodeURIComponent(id)}&limit=200`),
    `queues-${id}`,
  );
  const save = useAction();
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  const submit = (event: FormEvent) => {
    const body = applicationBody(formOf(event), me.role === "admin");
    setSaved(false);
    void save.run(async () => {
      await api("PUT", `/applications/${id}`, body);
      setSaved(true);
      app.reload();
    });
  };
  const destroy = () => {
    if (!window.confirm(t("apps.delete_confirm", { name: app.data?.name ?? "" }))) return;
    void remove.run(async () => {
      await api("DELETE", `/applications/${id}`);
      location.hash = "#/apps";
    });
  };
  const data = app.data;
  return (
    <section>
      <p>
        <a href="#/apps">{t("apps.back")}</a>
      </p>
      {data === undefined ? (
        <Loading loaded={app} />
      ) : (
        <>
          <h1 class="breakable">{data.name}</h1>
          <p class="actions">
            <a class="button" href={`#/live/${id}`}>
              {t("apps.open_live")}
            </a>
            <a class="button" href={`#/callbacks/${id}`}>
              {t("nav.callbacks")}
            </a>
          </p>
          <h2>{t("queues.title")}</h2>
          <Loading loaded={queues} />
          {queues.data === undefined ? null : queues.data.items.length === 0 ? (
            <p>{t("queues.none")}</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("queues.name")}</th>
                    <th scope="col">{t("queues.rate")}</th>
                    <th scope="col">{t("queues.mode")}</th>
                    <th scope="col">
                      <span class="visually-hidden">{t("common.actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {queues.data.items.map((queue) => (
                    <tr key={queue.id}>
                      <td class="breakable">
                        <a href={`#/queues/${queue.id}`}>{queue.name}</a>
                      </td>
                      <td>{num(queue.max_users_per_minute)}</td>
                      <td>{t(`queues.mode_${queue.mode}`)}</td>
                      <td>
                        <a href={`#/live/${id}/${queue.id}`}>{t("queues.live")}</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {me.role === "viewer" ? null : (
            <p>
              <a class="button primary" href={`#/apps/${id}/new-queue`}>
                {t("queues.create")}
              </a>
            </p>
          )}
          <h2>{t("apps.settings")}</h2>
          <dl class="facts">
            <dt>{t("apps.publishable_key")}</dt>
            <dd class="mono" dir="ltr">
              {data.publishable_key}
            </dd>
            <dt>{t("apps.api_key_prefix")}</dt>
            <dd class="mono" dir="ltr">
              {data.api_key_prefix}…
            </dd>
          </dl>
          {me.role === "viewer" ? <p class="notice">{t("common.read_only")}</p> : null}
          <ErrorBox error={save.error} />
          {saved ? (
            <p class="notice" role="status">
              {t("common.saved")}
            </p>
          ) : null}
          <ApplicationForm me={me} app={data} onSubmit={submit} busy={save.busy} label={t("common.save")} />
          {me.role === "viewer" ? null : <Rotations id={id} onRotated={app.reload} />}
          {me.role === "admin" ? (
            <div class="danger-zone">
              <ErrorBox error={remove.error} />
              <button type="button" class="danger" onClick={destroy} disabled={remove.busy}>
                {t("apps.delete")}
              </button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );
}
