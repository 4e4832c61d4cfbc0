import { login } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox, Field, type FormEvent, formOf, text, useAction } from "../ui.js";

/** The login form. The token stays in memory: a reload asks again, and the page says so. */
export function Login({ onLoggedIn, reason }: { onLoggedIn: () => Promise<void>; reason?: string }) {
  const action = useAction();
  const submit = (event: FormEvent) => {
    const form = formOf(event);
    void action.run(async () => {
      await login(text(form, "username") ?? "", String(form.get("password") ?? ""));
      await onLoggedIn();
    });
  };
  return (
    <main class="login" id="main">
      <h1>{t("login.title")}</h1>
      {reason === undefined ? null : (
        <p class="notice" role="status">
          {reason}
        </p>
      )}
      <form onSubmit={submit} class="stack">
        <Field label={t("login.email")}>
          <input name="username" type="email" autocomplete="username" required maxLength={254} dir="ltr" />
        </Field>
        <Field label={t("login.password")}>
          <input name="password" type="password" autocomplete="current-password" required maxLength={1024} />
        </Field>
        <ErrorBox error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? t("login.signing_in") : t("login.submit")}
        </button>
      </form>
      <p class="muted">{t("login.memory_note")}</p>
    </main>
  );
}
