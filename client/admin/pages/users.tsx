import { useState } from "preact/hooks";
import { api, get } from "../api.js";
import { t } from "../i18n.js";
import type { Application, Me, Page, Role, User } from "../types.js";
import {
  ErrorBox,
  Field,
  type FormEvent,
  formOf,
  Loading,
  text,
  useAction,
  useApplications,
  useLoad,
} from "../ui.js";

const ROLES: Role[] = ["admin", "operator", "viewer"];

function UserRow({
  user,
  me,
  apps,
  act,
  busy,
}: {
  user: User;
  me: Me;
  apps: Application[];
  act: (action: () => Promise<void>) => void;
  busy: boolean;
}) {
  const [grant, setGrant] = useState("");
  const self = user.id === me.id;
  const names = new Map(apps.map((app) => [app.id, app.name]));
  const ungranted = apps.filter((app) => !user.application_ids.includes(app.id));
  return (
    <tr data-user={user.email}>
      <td class="breakable">
        {user.email}
        {self ? <span class="badge">{t("users.you")}</span> : null}
      </td>
      <td>
        <select
          aria-label={t("users.role_of", { email: user.email })}
          value={user.role}
          disabled={self || busy}
          onChange={(event) => {
            const role = event.currentTarget.value;
            act(() => api("PUT", `/users/${user.id}`, { role }));
          }}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {t(`role.${role}`)}
            </option>
          ))}
        </select>
      </td>
      <td>
        {user.disabled_at === null ? (
          t("users.active")
        ) : (
          <span class="badge badge-down">{t("users.disabled")}</span>
        )}
      </td>
      <td class="breakable">
        {user.role === "admin" ? (
          t("users.all_applications")
        ) : (
          <>
            {user.application_ids.length === 0 ? <span class="muted">{t("users.no_grants")}</span> : null}
            <ul class="grants">
              {user.application_ids.map((id) => (
                <li key={id}>
                  <span>{names.get(id) ?? id}</span>
                  <button
                    type="button"
                    class="small"
                    disabled={busy}
                    aria-label={t("users.remove_grant", { name: names.get(id) ?? id })}
                    onClick={() => act(() => api("DELETE", `/users/${user.id}/grants/${id}`))}
                  >
                    ×
                  </button>
                </li>
              ))}
            </ul>
            {ungranted.length === 0 ? null : (
              <div class="actions">
                <select
                  aria-label={t("users.grant_to", { email: user.email })}
                  value={grant}
                  onChange={(event) => setGrant(event.currentTarget.value)}
                >
                  <option value="">{t("common.choose")}</option>
                  {ungranted.map((app) => (
                    <option key={app.id} value={app.id}>
                      {app.name}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  disabled={grant === "" || busy}
                  onClick={() => {
                    const applicationId = grant;
                    setGrant("");
                    act(() => api("POST", `/users/${user.id}/grants`, { application_id: applicationId }));
                  }}
                >
                  {t("users.add_grant")}
                </button>
              </div>
            )}
          </>
        )}
      </td>
      <td>
        {self ? null : (
          <div class="actions">
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                act(() => api("PUT", `/users/${user.id}`, { disabled: user.disabled_at === null }))
              }
            >
              {user.disabled_at === null ? t("users.disable") : t("users.enable")}
            </button>
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={() => {
                if (window.confirm(t("users.delete_confirm", { email: user.email })))
                  act(() => api("DELETE", `/users/${user.id}`));
              }}
            >
              {t("users.delete")}
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}

/** Users and their grants (admins only: the API refuses anyone else with 403). */
export function UsersPage({ me }: { me: Me }) {
  const users = useLoad(() => get<Page<User>>("/users/?limit=200"), "users");
  const apps = useApplications();
  const action = useAction();
  const create = useAction();
  const [created, setCreated] = useState<string | undefined>(undefined);
  const [formKey, setFormKey] = useState(0);
  if (me.role !== "admin") {
    return (
      <section>
        <h1>{t("users.title")}</h1>
        <p class="notice">{t("users.admin_only")}</p>
      </section>
    );
  }
  const act = (change: () => Promise<void>) => {
    setCreated(undefined);
    void action.run(change).then(() => users.reload());
  };
  const submit = (event: FormEvent) => {
    const form = formOf(event);
    const email = text(form, "email") ?? "";
    setCreated(undefined);
    void create.run(async () => {
      await api("POST", "/users/", {
        email,
        password: String(form.get("password") ?? ""),
        role: text(form, "role") ?? "viewer",
      });
      setCreated(email);
      setFormKey((key) => key + 1);
      users.reload();
    });
  };
  return (
    <section>
      <h1>{t("users.title")}</h1>
      <ErrorBox error={action.error} />
      {users.data === undefined ? (
        <Loading loaded={users} />
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("users.email")}</th>
                <th scope="col">{t("users.role")}</th>
                <th scope="col">{t("users.status")}</th>
                <th scope="col">{t("users.grants")}</th>
                <th scope="col">
                  <span class="visually-hidden">{t("common.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((user) => (
                <UserRow
                  key={user.id}
                  user={user}
                  me={me}
                  apps={apps.data?.items ?? []}
                  act={act}
                  busy={action.busy}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details class="panel">
        <summary>{t("users.create")}</summary>
        <ErrorBox error={create.error} />
        {created === undefined ? null : (
          <p class="notice" role="status">
            {t("users.created", { email: created })}
          </p>
        )}
        <form onSubmit={submit} class="grid-form" key={formKey}>
          <fieldset disabled={create.busy}>
            <Field label={t("users.email")}>
              <input name="email" type="email" required maxLength={254} autocomplete="off" dir="ltr" />
            </Field>
            <Field label={t("users.password")} hint={t("users.password_hint")}>
              <input name="password" type="password" required minLength={12} autocomplete="new-password" />
            </Field>
            <Field label={t("users.role")}>
              <select name="role" defaultValue="viewer">
                {ROLES.map((role) => (
                  <option key={role} value={role}>
                    {t(`role.${role}`)}
                  </option>
                ))}
              </select>
            </Field>
            <div class="actions">
              <button type="submit" class="primary">
                {t("users.create")}
              </button>
            </div>
          </fieldset>
        </form>
      </details>
    </section>
  );
}
