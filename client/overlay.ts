import type { Formatter, ViewModel } from "./format.js";
import type { Connection } from "./live.js";
import CSS from "./overlay.css";

export type Theme = "light" | "dark" | "auto";

export interface OverlayActions {
  cancel(): void;
  rejoin(): void;
}

/** Buttons need no type="button": there is no form in the shadow root for them to submit. */
const MARKUP = `<div class="card" role="dialog" aria-modal="true" aria-labelledby="t" aria-describedby="d" tabindex="-1"><h2 id="t" data-k="title"></h2><div class="w"><p class="label" data-k="widget.your_place"></p><p class="pos">…</p><p class="ahead"></p><p class="wait" data-k="wait_unknown"></p><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="fill"></div></div></div><p class="msg" id="d" data-k="keep_open"></p><p class="conn" hidden></p><div class="actions"><button class="cancel" data-k="cancel"></button><a class="btn primary go" hidden data-k="continue"></a><button class="primary rejoin" hidden data-k="rejoin"></button><button class="close" hidden data-k="widget.close"></button></div><div class="confirm" hidden><p data-k="cancel_confirm"></p><div class="actions"><button class="primary stay" data-k="widget.stay"></button><button class="danger leave" data-k="widget.leave"></button></div></div><div class="sr" aria-live="polite"></div></div>`;

/**
 * The waiting room over the site's page: a modal dialog in a shadow root (the site's CSS cannot reach
 * it), with the rest of the page inert while it is open. Text is set through textContent only.
 */
export class Overlay {
  private _host: HTMLElement | undefined;
  private _root: ShadowRoot | undefined;
  private _inerted: Element[] = [];
  private _previousFocus: Element | null = null;
  private _overflow = "";

  constructor(
    private readonly _format: Formatter,
    private readonly _theme: Theme,
    private readonly _actions: OverlayActions,
  ) {}

  private _el<T extends HTMLElement = HTMLElement>(selector: string): T {
    return this._root?.querySelector(selector) as T;
  }

  private _text(selector: string, value: string): void {
    const element = this._el(selector);
    if (element.textContent !== value) element.textContent = value;
  }

  private _show(selector: string, visible: boolean): void {
    this._el(selector).hidden = !visible;
  }

  open(): void {
    if (this._host !== undefined) return;
    const host = document.createElement("div");
    host.setAttribute("data-anteroom-overlay", "");
    host.setAttribute("data-theme", this._theme);
    const root = host.attachShadow({ mode: "open" });
    root.innerHTML = MARKUP;
    try {
      // A constructed sheet: allowed under a strict style-src, unlike a <style> element.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch {
      // No constructable stylesheets (older Safari).
      const style = document.createElement("style");
      style.textContent = CSS;
      root.prepend(style);
    }
    this._host = host;
    this._root = root;
    const format = this._format;
    const card = this._el(".card");
    card.lang = format.lang;
    card.dir = format.lang === "ar" ? "rtl" : "ltr";
    for (const element of root.querySelectorAll<HTMLElement>("[data-k]")) {
      element.textContent = format.t(element.dataset.k ?? "");
    }
    this._el(".bar").setAttribute("aria-label", format.t("progress"));
    // Each button is known by its string's key.
    const clicks: Record<string, () => void> = {
      cancel: () => this._confirm(true),
      "widget.stay": () => this._confirm(false),
      "widget.leave": () => {
        this._confirm(false);
        this._actions.cancel();
      },
      rejoin: () => this._actions.rejoin(),
      "widget.close": () => this.close(),
    };
    card.addEventListener("click", (event) => {
      const key = (event.target as HTMLElement).closest("button")?.dataset.k;
      if (key !== undefined) clicks[key]?.();
    });
    card.addEventListener("keydown", (event) => this._key(event));

    const body = document.body;
    const style = document.documentElement.style;
    this._previousFocus = document.activeElement;
    for (const child of body.children) {
      if (!child.hasAttribute("inert") && child.tagName !== "SCRIPT") {
        child.setAttribute("inert", "");
        this._inerted.push(child);
      }
    }
    this._overflow = style.overflow;
    style.overflow = "hidden";
    body.append(host);
    card.focus();
  }

  close(): void {
    if (this._host === undefined) return;
    this._host.remove();
    this._host = this._root = undefined;
    for (const element of this._inerted) element.removeAttribute("inert");
    this._inerted = [];
    document.documentElement.style.overflow = this._overflow;
    if (this._previousFocus instanceof HTMLElement) this._previousFocus.focus();
  }

  /** Shows or hides the confirmation to leave, moving focus to its safe choice (or back). */
  private _confirm(open: boolean): void {
    this._show(".confirm", open);
    this._show(".actions", !open);
    this._el(open ? ".stay" : ".cancel").focus();
  }

  /** Tab stays within the dialog; Escape closes the confirmation. */
  private _key(event: KeyboardEvent): void {
    if (event.key === "Escape" && !this._el(".confirm").hidden) {
      this._confirm(false);
      return;
    }
    if (event.key !== "Tab") return;
    const focusable = [...(this._root?.querySelectorAll<HTMLElement>("button,a[href]") ?? [])].filter(
      (element) => element.offsetParent !== null,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this._root?.activeElement as HTMLElement;
    // At the edge Tab is leaving by (or outside the buttons): wrap round to the other end.
    if (first === undefined || active === (event.shiftKey ? first : last) || !focusable.includes(active)) {
      event.preventDefault();
      (event.shiftKey ? last : first)?.focus();
    }
  }

  /**
   * An ended place or an error: said in the heading (the dialog's name) and announced, the figures and
   * the confirmation hidden, the buttons that fit shown and the first of them focused.
   */
  private _end(heading: string, rejoin: boolean, close: boolean, go?: string, announcement?: string): void {
    this._show(".w", false);
    this._show(".confirm", false);
    this._show(".actions", true);
    this._show(".cancel", false);
    this._show(".rejoin", rejoin);
    this._show(".close", close);
    const link = this._el<HTMLAnchorElement>(".go");
    link.hidden = go === undefined;
    this._text("h2", heading);
    this._text(".msg", go === undefined ? "" : this._format.t("redirecting", { site: new URL(go).host }));
    if (go !== undefined) link.href = go;
    this._el(go !== undefined ? ".go" : rejoin ? ".rejoin" : ".close").focus();
    if (announcement !== undefined) this._announce(announcement);
  }

  /** Draws a status; `announcement`, when given, is spoken through the polite live region. */
  render(view: ViewModel, announcement?: string, go?: string): void {
    if (this._root === undefined) return;
    if (view.state !== "waiting") {
      const over = view.state === "cancelled" || view.state === "expired";
      this._end(view.ended, over, over, go, announcement);
      return;
    }
    this._show(".w", true);
    this._show(".cancel", true);
    this._show(".rejoin", false);
    this._show(".close", false);
    this._show(".go", false);
    this._text("h2", this._format.t("title"));
    this._text(".pos", view.position);
    this._text(".ahead", view.ahead);
    this._text(".wait", view.wait);
    const bar = this._el(".bar");
    bar.setAttribute("aria-valuenow", String(view.progress));
    bar.setAttribute("aria-valuetext", view.positionSentence);
    this._el(".fill").style.setProperty("--p", `${view.progress}%`);
    this._text(".msg", this._format.t("keep_open"));
    if (announcement !== undefined) this._announce(announcement);
  }

  /** An error in words: shown, announced, with a way to try again when that may help. */
  error(message: string, canRetry: boolean): void {
    if (this._root !== undefined) this._end(message, canRetry, true, undefined, message);
  }

  connection(state: Connection): void {
    if (this._root === undefined) return;
    const line = this._el(".conn");
    line.hidden = state === "live";
    const text = state === "live" ? "" : this._format.t(state);
    if (line.textContent !== text) {
      line.textContent = text;
      if (text !== "") this._announce(text);
    }
  }

  private _announce(text: string): void {
    const region = this._el(".sr");
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  }
}
