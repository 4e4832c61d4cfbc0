import { useEffect, useState } from "preact/hooks";
import { ApiError, get, logout, onLogout } from "./api.js";
import { LANGUAGES, language, setLanguage, t } from "./i18n.js";
import { AlertsPage } from "./pages/alerts.js";
import { AnalyticsPage } from "./pages/analytics.js";
import { ApplicationPage, ApplicationsPage } from "./pages/applications.js";
import { CallbacksPage } from "./pages/callbacks.js";
import { KeysPage } from "./pages/keys.js";
import { LivePage } from "./pages/live.js";
import { Login } from "./pages/login.js";
import { QueuePage } from "./pages/queues.js";
import { SummaryPage } from "./pages/summary.js";
import { UsersPage } from "./pages/users.js";
import type { Me } from "./types.js";
import { ErrorBox } from "./ui.js";

/** The route: the part of the URL after `#/`, split on `/` (`#/live/<app>/<queue>`). */
function currentRoute(): string[] {
  return location.hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((part) => part !== "")
    .map((part) => decodeURIComponent(part));
}

interface NavItem {
  path: string;
  key: string;
  admin?: boolean;
}

const NAV: NavItem[] = [
  { path: "", key: "nav.summary" },
  { path: "live", key: "nav.live" },
  { path: "apps", key: "nav.applications" },
  { path: "analytics", key: "nav.analytics" },
  { path: "callbacks", key: "nav.callbacks" },
  { path: "alerts", key: "nav.alerts" },
  { path: "users", key: "nav.users", admin: true },
  { path: "keys", key: "nav.keys" },
];

function Page({ me, route }: { me: Me; route: string[] }) {
  const [first = "", second, third] = route;
  switch (first) {
    case "":
      return <SummaryPage />;
    case "apps":
      if (second === undefined) return <ApplicationsPage me={me} />;
      if (third === "new-queue") return <QueuePage me={me} appId={second} />;
      return <ApplicationPage me={me} id={second} key={second} />;
    case "queues":
      return second === undefined ? null : <QueuePage me={me} id={second} key={second} />;
    case "live":
      return <LivePage appId={second} queueId={third} key={`${second}-${third}`} />;
    case "analytics":
      return <AnalyticsPage appId={second} key={second} />;
    case "callbacks":
      return <CallbacksPage me={me} appId={second} key={second} />;
    case "alerts":
      return <AlertsPage />;
    case "users":
      return <UsersPage me={me} />;
    case "keys":
      return <KeysPage me={me} />;
    default:
      return <p>{t("common.not_found")}</p>;
  }
}

export function App() {
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [reason, setReason] = useState<string | undefined>(undefined);
  const [route, setRoute] = useState(currentRoute());
  const [lang, setLang] = useState(language());
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    onLogout((expired) => {
      setMe(undefined);
      setReason(expired ? t("login.expired") : t("login.logged_out"));
    });
    const changed = () => setRoute(currentRoute());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);

  const loggedIn = async () => {
    setReason(undefined);
    setError(undefined);
    try {
      setMe(await get<Me>("/auth/me"));
    } catch (caught) {
      if (!(caught instanceof ApiError && caught.status === 401)) setError(caught);
    }
  };

  const chooseLanguage = (next: string) => {
    setLanguage(next);
    setLang(language());
  };

  const picker = (
    <span class="lang-picker">
      <select
        aria-label={t("common.language")}
        value={lang}
        onChange={(event) => chooseLanguage(event.currentTarget.value)}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {new Intl.DisplayNames([code], { type: "language" }).of(code) ?? code}
          </option>
        ))}
      </select>
    </span>
  );

  if (me === undefined) {
    return (
      <div class="shell" key={lang}>
        <header class="top">
          <span class="brand">{t("title")}</span>
          {picker}
        </header>
        <ErrorBox error={error} />
        <Login onLoggedIn={loggedIn} {...(reason === undefined ? {} : { reason })} />
      </div>
    );
  }
  const section = route[0] ?? "";
  return (
    <div class="shell" key={lang}>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        {t("common.skip")}
      </button>
      <header class="top">
        <span class="brand">{t("title")}</span>
        <nav aria-label={t("nav.label")}>
          <ul>
            {NAV.filter((item) => item.admin !== true || me.role === "admin").map((item) => (
              <li key={item.path}>
                <a
                  href={`#/${item.path}`}
                  aria-current={
                    section === item.path || (item.path === "apps" && section === "queues")
                      ? "page"
                      : undefined
                  }
                >
                  {t(item.key)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {picker}
          <span class="muted breakable email" title={me.email}>
            {me.email} · {t(`role.${me.role}`)}
          </span>
          <button type="button" title={`${me.email} · ${t(`role.${me.role}`)}`} onClick={() => logout()}>
            {t("nav.logout")}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page me={me} route={route} />
      </main>
    </div>
  );
}
