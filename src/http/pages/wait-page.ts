import type { PageSettings } from "../../domain/model.js";
import type { VisitorStatus } from "../../domain/visitor-status.js";
import type { Translator } from "../../i18n/index.js";
import { accentOf } from "./colors.js";
import { escapeHtml, jsonForScript } from "./html.js";
import { pageStyles } from "./styles.js";

/**
 * The hosted waiting page, rendered on the server and complete without JavaScript. The DOM contract the
 * enhancement script (client/, the `wait` bundle) relies on: `#anteroom-state` (JSON), and elements marked
 * `data-anteroom="state|position|ahead|wait|progress|bar|live"` (see docs/visitor-integration.md).
 */
export type Theme = "light" | "dark" | "auto";

export interface PageFrame {
  t: Translator;
  theme: Theme;
  nonce: string;
  page: PageSettings | null;
}

export interface WaitView extends PageFrame {
  queueId: string;
  token: string;
  status: VisitorStatus;
  /** The first position this browser saw (the progress bar's zero). */
  startPosition: number;
  /** Seconds between the no-JS page's refreshes (waiting only). */
  refreshSeconds: number | undefined;
  /** The enhancement script's path; without it, the page refreshes itself even with JavaScript on. */
  scriptSrc: string | undefined;
  /** Kept across the cancel form and the "join again" link. */
  params: { lang: string; theme: Theme; return_to?: string };
  /** Where "Join again" goes. */
  rejoinUrl: string;
}

export interface ErrorView extends PageFrame {
  code: string;
  message: string;
  /** Seconds after which the page tries again by itself (a 429 or 503). */
  retryAfter: number | undefined;
  retryUrl: string | undefined;
}

/** Progress from the first position seen to the front: 0 on joining, 100 once released. */
export function progressOf(status: VisitorStatus, start: number): number {
  if (status.status === "released") return 100;
  if (status.status !== "waiting" || status.position === null) return 0;
  const from = Math.max(start, status.position);
  if (from <= 1) return 0;
  return Math.max(0, Math.min(100, Math.round((100 * (from - status.position)) / from)));
}

/** A per-language text of the queue's page settings: the language's, else English's. */
function setting(texts: Readonly<Record<string, string>> | undefined, lang: string): string | undefined {
  return texts?.[lang] ?? texts?.en;
}

function documentHead(frame: PageFrame, title: string, progress: number, extraHead: string): string {
  const { t, theme, nonce } = frame;
  const scheme = theme === "auto" ? "light dark" : theme;
  return `<!doctype html>
<html lang="${escapeHtml(t.lang)}" dir="${t.dir}" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="${scheme}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
${extraHead}<style nonce="${nonce}">${pageStyles(accentOf(frame.page?.accent_color), progress)}</style>
`;
}

function logo(frame: PageFrame): string {
  const url = frame.page?.logo_url;
  return url === undefined ? "" : `<img class="logo" src="${escapeHtml(url)}" alt="">\n`;
}

function footer(t: Translator): string {
  return `<footer>${escapeHtml(t.t("page.powered_by"))}</footer>\n</body>\n</html>\n`;
}

/** The position sentence with the number in its own element (shown large). */
function positionSentence(t: Translator, position: number): string {
  const marker = "\u0000";
  const [before = "", after = ""] = t.t("visitor.position", { position: marker }).split(marker);
  return `${escapeHtml(before)}<span class="number" data-anteroom="position">${escapeHtml(t.number(position))}</span>${escapeHtml(after)}`;
}

function hiddenInputs(params: WaitView["params"]): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join("");
}

function waitingBody(view: WaitView, progress: number): string {
  const { t, status } = view;
  const position = status.position ?? 1;
  const ahead = status.users_ahead ?? Math.max(0, position - 1);
  const refresh =
    view.refreshSeconds === undefined
      ? ""
      : `<noscript><p class="note">${escapeHtml(t.t("visitor.refreshes", { duration: t.duration(view.refreshSeconds) }))}</p></noscript>\n`;
  return `<p class="position">${positionSentence(t, position)}</p>
<div class="progress" data-anteroom="progress" role="progressbar" aria-label="${escapeHtml(t.t("visitor.progress"))}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${progress}"><div class="bar" data-anteroom="bar"></div></div>
<ul class="facts">
<li data-anteroom="ahead">${escapeHtml(t.plural("visitor.ahead", ahead))}</li>
<li data-anteroom="wait">${escapeHtml(t.waitSentence(status.estimated_wait_seconds))}</li>
</ul>
<form class="actions" method="post" action="/wait/${view.queueId}/cancel">${hiddenInputs(view.params)}<button class="button secondary" type="submit">${escapeHtml(t.t("visitor.cancel"))}</button></form>
${refresh}`;
}

function releasedBody(view: WaitView): string {
  const { t } = view;
  const url = view.status.redirect_url ?? "";
  return `<p class="message">${escapeHtml(t.t("page.released_body"))}</p>
<div class="actions"><a class="button primary" href="${escapeHtml(url)}">${escapeHtml(t.t("visitor.continue"))}</a></div>
<p class="note">${escapeHtml(t.t("page.token_note"))}</p>
`;
}

function endedBody(view: WaitView): string {
  return `<div class="actions"><a class="button primary" href="${escapeHtml(view.rejoinUrl)}">${escapeHtml(view.t.t("visitor.rejoin"))}</a></div>\n`;
}

/** The state the enhancement script starts from. */
function stateJson(view: WaitView): string {
  return jsonForScript({
    token: view.token,
    status: view.status,
    lang: view.t.lang,
    queue_id: view.queueId,
    theme: view.theme,
    start_position: view.startPosition,
    strings: view.t.visitorStrings(),
  });
}

export function renderWaitPage(view: WaitView): string {
  const { t, status } = view;
  const progress = progressOf(status, view.startPosition);
  const waiting = status.status === "waiting";
  const heading =
    status.status === "released"
      ? t.t("visitor.released")
      : status.status === "cancelled"
        ? t.t("visitor.cancelled")
        : status.status === "expired"
          ? t.t("visitor.expired")
          : (setting(view.page?.title, t.lang) ?? t.t("visitor.title"));
  const message = waiting ? (setting(view.page?.message, t.lang) ?? t.t("visitor.keep_open")) : undefined;
  let refreshHead = "";
  let script = "";
  if (waiting && view.refreshSeconds !== undefined) {
    // Without JavaScript the browser refreshes the page itself; with it, the enhancement script updates
    // the page in place, or (where the deployment serves no script) a reload on the same schedule.
    refreshHead = `<noscript><meta http-equiv="refresh" content="${view.refreshSeconds}"></noscript>\n`;
    if (view.scriptSrc === undefined) {
      script = `<script nonce="${view.nonce}">setTimeout(function(){location.reload()},${view.refreshSeconds * 1000})</script>\n`;
    }
  }
  if (view.scriptSrc !== undefined) {
    script = `<script src="${escapeHtml(view.scriptSrc)}" nonce="${view.nonce}" defer></script>\n`;
  }
  const head = `${refreshHead}<script type="application/json" id="anteroom-state">${stateJson(view)}</script>\n${script}`;
  const body =
    status.status === "waiting"
      ? waitingBody(view, progress)
      : status.status === "released"
        ? releasedBody(view)
        : endedBody(view);
  const title = waiting ? `${heading} · ${t.t("page.waiting_room")}` : heading;
  return `${documentHead(view, title, progress, head)}</head>
<body>
<main data-anteroom="state" data-status="${status.status}">
${logo(view)}${waiting ? `<p class="eyebrow"><span class="pulse" aria-hidden="true"></span>${escapeHtml(t.t("page.waiting_room"))}</p>\n` : ""}<h1>${escapeHtml(heading)}</h1>
${message === undefined ? "" : `<p class="message">${escapeHtml(message)}</p>\n`}${body}<p class="sr-only" data-anteroom="live" aria-live="polite"></p>
</main>
${footer(t)}`;
}

/** A page for an error a browser runs into (an unknown queue, a foreign return_to, a limit). */
export function renderErrorPage(view: ErrorView): string {
  const { t } = view;
  const retry =
    view.retryAfter === undefined
      ? ""
      : `<meta http-equiv="refresh" content="${Math.max(1, view.retryAfter)}">\n`;
  const again =
    view.retryUrl === undefined
      ? ""
      : `<div class="actions"><a class="button primary" href="${escapeHtml(view.retryUrl)}">${escapeHtml(t.t("page.try_again"))}</a></div>\n`;
  // A limit or an outage passes: say the room is busy, not that it cannot be opened.
  const heading = view.retryAfter === undefined ? t.t("page.error_title") : t.t("page.busy_title");
  return `${documentHead(view, heading, 0, retry)}</head>
<body>
<main data-anteroom="error" data-error="${escapeHtml(view.code)}">
${logo(view)}<h1>${escapeHtml(heading)}</h1>
<p class="message">${escapeHtml(view.message)}</p>
${again}<p class="note code">${escapeHtml(t.t("page.error_code", { code: view.code }))}</p>
</main>
${footer(t)}`;
}
