import { Announcer } from "./announce.js";
import { Formatter, flatten, viewModel } from "./format.js";
import { LiveStatus } from "./live.js";
import { read, write } from "./storage.js";
import type { VisitorStatus } from "./types.js";

/**
 * /scripts/wait.<hash>.js: enhances the server-rendered waiting page (GET /wait/{queue_id}). The page
 * works without it (a meta refresh); with it the figures update live, changes are announced politely,
 * and a release goes on at once. The DOM contract: #anteroom-state (JSON) and [data-anteroom=…] elements.
 */
interface PageState {
  token: string;
  status: VisitorStatus;
  lang: string;
  queue_id: string;
  strings: Record<string, unknown>;
}

function part(name: string): HTMLElement | null {
  return document.querySelector<HTMLElement>(`[data-anteroom="${name}"]`);
}

function setText(name: string, value: string): void {
  const element = part(name);
  if (element !== null && value !== "" && element.textContent !== value) element.textContent = value;
}

function start(): void {
  const source = document.getElementById("anteroom-state");
  if (source === null) return;
  let state: PageState;
  try {
    state = JSON.parse(source.textContent ?? "") as PageState;
  } catch {
    return;
  }
  const format = new Formatter(state.lang, flatten(state.strings ?? {}));
  const announcer = new Announcer();
  const startKey = `wait:${state.token.slice(-24)}`;
  let begin = Number(read(startKey)) || 0;
  announcer.position(state.status.position ?? 0, Date.now());

  const show = (status: VisitorStatus) => {
    if (status.position !== null && status.position > begin) {
      begin = status.position;
      write(startKey, String(begin));
    }
    const view = viewModel(format, status, begin);
    part("state")?.setAttribute("data-status", status.status);
    setText("position", view.position);
    setText("ahead", view.ahead);
    setText("wait", view.wait);
    const progress = part("progress");
    if (progress !== null) {
      progress.setAttribute("aria-valuenow", String(view.progress));
      progress.style.setProperty("--anteroom-progress", `${view.progress}%`);
      part("bar")?.style.setProperty("--anteroom-progress", `${view.progress}%`);
    }
    let announcement: string | undefined;
    if (status.status === "waiting" && status.position !== null) {
      if (announcer.position(status.position, Date.now())) {
        announcement = `${view.positionSentence}. ${view.wait}`;
      }
    } else if (announcer.ended(status.status)) {
      announcement = status.status === "released" ? format.t("released") : view.ended;
    }
    const live = part("live");
    if (live !== null && announcement !== undefined) live.textContent = announcement;
    const next = status.redirect_url;
    if (status.status === "released" && next !== undefined && /^https?:\/\//.test(next)) {
      location.assign(next);
    }
  };

  show(state.status);
  if (state.status.status !== "waiting") return;
  const live = new LiveStatus({
    base: "",
    token: state.token,
    onStatus: show,
    // The place is gone (say, expired while the laptop slept): say so; reloading the page joins again.
    onError: () => {
      part("state")?.setAttribute("data-status", "expired");
      setText(
        "live",
        format.has("errors.invalid_token") ? format.t("errors.invalid_token") : format.t("expired"),
      );
    },
    onConnection: (connection) => part("state")?.setAttribute("data-connection", connection),
  });
  live.start();

  // Leaving the line through the page's own form: ask first.
  const form = document.querySelector<HTMLFormElement>('form[action$="/cancel"]');
  form?.addEventListener("submit", (event) => {
    if (format.has("cancel_confirm") && !window.confirm(format.t("cancel_confirm"))) event.preventDefault();
    else live.stop();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
