import { useState } from "preact/hooks";
import { api, get } from "../api.js";
import { LANGUAGES, t } from "../i18n.js";
import type { Me, PageSettings, Queue } from "../types.js";
import {
  ErrorBox,
  Field,
  type FormEvent,
  formOf,
  integer,
  Loading,
  text,
  useAction,
  useLoad,
} from "../ui.js";

/**
 * The waiting page's settings from the form: a title and a message per console language (other
 * languages the queue already has are kept), the logo and the accent colour; nothing set is null.
 */
function pageOf(form: FormData, previous: PageSettings | null | undefined): PageSettings | null {
  const texts = (name: "title" | "message") => {
    const out: Record<string, string> = { ...(previous?.[name] ?? {}) };
    for (const lang of LANGUAGES) {
      const value = text(form, `${name}_${lang}`);
      if (value === undefined) delete out[lang];
      else out[lang] = value;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  };
  const page: PageSettings = {};
  const title = texts("title");
  const message = texts("message");
  const logo = text(form, "logo_url");
  if (title !== undefined) page.title = title;
  if (message !== undefined) page.message = message;
  if (logo !== undefined) page.logo_url = logo;
  if (form.get("use_accent") === "on") page.accent_color = String(form.get("accent_color") ?? "#1f6feb");
  return Object.keys(page).length === 0 ? null : page;
}

function queueBody(form: FormData, previous?: Queue): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: text(form, "name") ?? "",
    max_users_per_minute: integer(form, "max_users_per_minute") ?? 0,
    priority: integer(form, "priority") ?? 0,
    release_ttl_seconds: integer(form, "release_ttl_seconds") ?? 600,
    abandon_after_seconds: integer(form, "abandon_after_seconds") ?? 300,
    admission_ttl_seconds: integer(form, "admission_ttl_seconds") ?? 3600,
    redirect_url: text(form, "redirect_url") ?? null,
    alert_threshold: integer(form, "alert_threshold") ?? null,
    page: pageOf(form, previous?.page),
  };
  if (previous === undefined) body.mode = text(form, "mode") ?? "live";
  return body;
}

/** Create (`appId`) or edit (`id`) a queue, with its hosted waiting page's settings. */
export function QueuePage({ me, id, appId }: { me: Me; id?: string; appId?: string }) {
  const queue = useLoad(
    () => (id === undefined ? Promise.resolve(undefined) : get<Queue>(`/queues/${id}`)),
    id ?? "new",
  );
  const save = useAction();
  const remove = useAction();
  const [saved, setSaved] = useState(false);
  const data = queue.data;
  const application = data?.application_id ?? appId ?? "";
  const readOnly = me.role === "viewer";

  const submit = (event: FormEvent) => {
    const body = queueBody(formOf(event), data);
    setSaved(false);
    void save.run(async () => {
      if (data === undefined) {
        const created = await api<Queue>("POST", "/queues/", { application_id: application, ...body });
        location.hash = `#/queues/${created.id}`;
      } else {
        await api("PUT", `/queues/${data.id}`, body);
        setSaved(true);
        queue.reload();
      }
    });
  };
  const destroy = () => {
    if (data === undefined || !window.confirm(t("queues.delete_confirm", { name: data.name }))) return;
    void remove.run(async () => {
      await api("DELETE", `/queues/${data.id}`);
      location.hash = `#/apps/${data.application_id}`;
    });
  };

  if (id !== undefined && data === undefined) return <Loading loaded={queue} />;
  return (
    <section>
      <p>
        <a href={`#/apps/${application}`}>{t("queues.back")}</a>
      </p>
      <h1 class="breakable">{data === undefined ? t("queues.create") : data.name}</h1>
      {data === undefined ? null : (
        <p class="actions">
          <a class="button" href={`#/live/${data.application_id}/${data.id}`}>
            {t("queues.live")}
          </a>
        </p>
      )}
      {readOnly ? <p class="notice">{t("common.read_only")}</p> : null}
      <form onSubmit={submit} class="grid-form" key={data?.id ?? "new"}>
        <fieldset disabled={readOnly || save.busy}>
          <Field label={t("queues.name")}>
            <input name="name" required maxLength={200} defaultValue={data?.name ?? ""} />
          </Field>
          <Field label={t("queues.rate")} hint={t("queues.rate_hint")}>
            <input
              name="max_users_per_minute"
              type="number"
              required
              min={1}
              max={1000000}
              defaultValue={String(data?.max_users_per_minute ?? 60)}
            />
          </Field>
          <Field label={t("queues.priority")} hint={t("queues.priority_hint")}>
            <input
              name="priority"
              type="number"
              min={-1000}
              max={1000}
              defaultValue={String(data?.priority ?? 0)}
            />
          </Field>
          {data === undefined ? (
            <Field label={t("queues.mode")} hint={t("queues.mode_hint")}>
              <select name="mode" defaultValue="live">
                <option value="live">{t("queues.mode_live")}</option>
                <option value="simulation">{t("queues.mode_simulation")}</option>
              </select>
            </Field>
          ) : null}
          <Field label={t("queues.release_ttl")} hint={t("queues.release_ttl_hint")}>
            <input
              name="release_ttl_seconds"
              type="number"
              min={30}
              max={86400}
              defaultValue={String(data?.release_ttl_seconds ?? 600)}
            />
          </Field>
          <Field label={t("queues.abandon_after")} hint={t("queues.abandon_after_hint")}>
            <input
              name="abandon_after_seconds"
              type="number"
              min={30}
              max={86400}
              defaultValue={String(data?.abandon_after_seconds ?? 300)}
            />
          </Field>
          <Field label={t("queues.admission_ttl")} hint={t("queues.admission_ttl_hint")}>
            <input
              name="admission_ttl_seconds"
              type="number"
              min={60}
              max={604800}
              defaultValue={String(data?.admission_ttl_seconds ?? 3600)}
            />
          </Field>
          <Field label={t("queues.redirect_url")} hint={t("queues.redirect_url_hint")}>
            <input
              name="redirect_url"
              type="url"
              maxLength={2048}
              defaultValue={data?.redirect_url ?? ""}
              dir="ltr"
            />
          </Field>
          <Field label={t("queues.alert_threshold")} hint={t("queues.alert_threshold_hint")}>
            <input
              name="alert_threshold"
              type="number"
              min={1}
              max={1000000000}
              defaultValue={data?.alert_threshold?.toString() ?? ""}
            />
          </Field>
          <fieldset class="page-settings">
            <legend>{t("queues.page")}</legend>
            <p class="hint">{t("queues.page_hint")}</p>
            {LANGUAGES.map((lang) => (
              <div key={lang} class="lang-group" lang={lang} dir={lang === "ar" ? "rtl" : "ltr"}>
                <Field label={t("queues.page_title", { lang: lang.toUpperCase() })}>
                  <input
                    name={`title_${lang}`}
                    maxLength={120}
                    defaultValue={data?.page?.title?.[lang] ?? ""}
                  />
                </Field>
                <Field label={t("queues.page_message", { lang: lang.toUpperCase() })}>
                  <textarea
                    name={`message_${lang}`}
                    rows={2}
                    maxLength={1000}
                    defaultValue={data?.page?.message?.[lang] ?? ""}
                  />
                </Field>
              </div>
            ))}
            <Field label={t("queues.logo_url")} hint={t("queues.logo_url_hint")}>
              <input
                name="logo_url"
                type="url"
                maxLength={2048}
                defaultValue={data?.page?.logo_url ?? ""}
                dir="ltr"
              />
            </Field>
            <label class="check">
              <input
                name="use_accent"
                type="checkbox"
                defaultChecked={data?.page?.accent_color !== undefined}
              />
              {t("queues.use_accent")}
            </label>
            <Field label={t("queues.accent_color")}>
              <input name="accent_color" type="color" defaultValue={data?.page?.accent_color ?? "#1f6feb"} />
            </Field>
          </fieldset>
          <ErrorBox error={save.error} />
          {saved ? (
            <p class="notice" role="status">
              {t("common.saved")}
            </p>
          ) : null}
          {readOnly ? null : (
            <div class="actions">
              <button type="submit" class="primary">
                {data === undefined ? t("queues.create") : t("common.save")}
              </button>
            </div>
          )}
        </fieldset>
      </form>
      {data === undefined || readOnly ? null : (
        <div class="danger-zone">
          <ErrorBox error={remove.error} />
          <button type="button" class="danger" onClick={destroy} disabled={remove.busy}>
            {t("queues.delete")}
          </button>
        </div>
      )}
    </section>
  );
}
