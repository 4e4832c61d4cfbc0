import type { Formatter, ViewModel } from "./format.js";
import type { Connection } from "./live.js";
import CSS from "./overlay.css";

export type Theme = "light" | "dark" | "auto";

export interface OverlayActions {
  cancel(): void;
  rejoin(): void;
}

const MARKUP = `<div class="card" role="dialog" aria-modal="true" aria-labelledby="t" aria-describedby="d" tabindex="-1">
<h2 id="t" data-k="title"></h2>
<div class="w"><p class="label" data-k="widget.your_place"></p><p class="pos">…</p><p class="ahead"></p><p class="wait" data-k="wait_unknown"></p>
<div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div class="fill"></div></div></div>
<p class="msg" id="d" data-k="keep_open"></p><p class="conn" hidden></p>
<div class="actions"><button type="button" class="cancel" data-k="cancel"></button><a class="btn primary go" hidden data-k="continue"></a><button type="button" class="primary rejoin" hidden data-k="rejoin"></button><button type="button" class="close" hidden data-k="widget.close"></button></div>
<div class="confirm" hidden><p id="c" data-k="cancel_confirm"></p><div class="actions"><button type="button" class="primary stay" data-k="widget.stay"></button><button type="button" class="danger leave" data-k="widget.leave"></button></div></div>
<div class="sr" aria-live="polite"></div></div>`;

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

  get isOpen(): boolean {
    return this._host !== undefined;
  }

  open(): void {
    if (this._host !== undefined) return;
    const host = document.createElement("div");
    host.setAttribute("data-anteroom-overlay", "");
    host.setAttribute("data-theme", this._theme);
    const root = host.attachShadow({ mode: "open" });
    if (
      "adoptedStyleSheets" in root &&
      typeof CSSStyleSheet === "function" &&
      "replaceSync" in CSSStyleSheet.prototype
    ) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement("style");
      style.textContent = CSS;
      root.append(style);
    }
    const wrapper = document.createElement("div");
    wrapper.innerHTML = MARKUP;
    root.append(...Array.from(wrapper.childNodes));
    this._host = host;
    this._root = root;
    const card = this._el(".card");
    card.lang = this._format.lang;
    card.dir = this._format.lang === "ar" ? "rtl" : "ltr";
    for (const element of Array.from(root.querySelectorAll<HTMLElement>("[data-k]"))) {
      element.textContent = this._format.t(element.dataset.k ?? "");
    }
    this._el(".bar").setAttribute("aria-label", this._format.t("progress"));
    this._el(".cancel").addEventListener("click", () => this._confirm(true));
    this._el(".stay").addEventListener("click", () => this._confirm(false));
    this._el(".leave").addEventListener("click", () => {
      this._confirm(false);
      this._actions.cancel();
    });
    this._el(".rejoin").addEventListener("click", () => this._actions.rejoin());
    this._el(".close").addEventListener("click", () => this.close());
    card.addEventListener("keydown", (event) => this._key(event));

    const body = document.body;
    this._previousFocus = document.activeElement;
    for (const child of Array.from(body.children)) {
      if (!child.hasAttribute("inert") && child.tagName !== "SCRIPT") {
        child.setAttribute("inert", "");
        this._inerted.push(child);
      }
    }
    this._overflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    body.append(host);
    card.focus();
  }

  close(): void {
    if (this._host === undefined) return;
    this._host.remove();
    this._host = undefined;
    this._root = undefined;
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
    const focusable = Array.from(this._root?.querySelectorAll<HTMLElement>("button,a[href]") ?? []).filter(
      (element) => element.offsetParent !== null,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (first === undefined || last === undefined) {
      event.preventDefault();
      return;
    }
    const active = this._root?.activeElement;
    if (event.shiftKey && (active === first || !focusable.includes(active as HTMLElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !focusable.includes(active as HTMLElement))) {
      event.preventDefault();
      first.focus();
    }
  }

  /** Draws a status; `announcement`, when given, is spoken through the polite live region. */
  render(view: ViewModel, announcement?: string, go?: string): void {
    if (this._root === undefined) return;
    const waiting = view.state === "waiting";
    this._show(".w", waiting);
    this._show(".cancel", waiting);
    this._show(".rejoin", view.state === "cancelled" || view.state === "expired");
    this._show(".close", view.state === "cancelled" || view.state === "expired");
    if (!waiting) this._show(".confirm", false);
    this._show(".actions", waiting ? this._el(".confirm").hidden : true);
    // An ended place is said in the heading (the dialog's name); released adds where the visitor goes.
    this._text("h2", waiting ? this._format.t("title") : view.ended);
    if (waiting) {
      this._text(".pos", view.position);
      this._text(".ahead", view.ahead);
      this._text(".wait", view.wait);
      const bar = this._el(".bar");
      bar.setAttribute("aria-valuenow", String(view.progress));
      bar.setAttribute("aria-valuetext", view.positionSentence);
      this._el(".fill").style.setProperty("--p", `${view.progress}%`);
    }
    this._text(".msg", waiting ? this._format.t("keep_open") : "");
    const link = this._el<HTMLAnchorElement>(".go");
    link.hidden = go === undefined;
    if (go !== undefined) {
      link.href = go;
      this._text(".msg", this._format.t("redirecting", { site: new URL(go).host }));
    }
    if (!waiting) this._el(go === undefined ? ".rejoin" : ".go").focus();
    if (announcement !== undefined) this._announce(announcement);
  }

  /** An error in words: shown, announced, with a way to try again when that may help. */
  error(message: string, canRetry: boolean): void {
    if (this._root === undefined) return;
    this._show(".w", false);
    this._show(".confirm", false);
    this._show(".actions", true);
    this._show(".cancel", false);
    this._show(".go", false);
    this._show(".rejoin", canRetry);
    this._show(".close", true);
    this._text("h2", message);
    this._text(".msg", "");
    this._el(canRetry ? ".rejoin" : ".close").focus();
    this._announce(message);
  }

  connection(state: Connection): void {
    if (this._root === undefined) return;
    const line = this._el(".conn");
    line.hidden = state === "live";
    if (state !== "live") {
      const text = this._format.t(state === "offline" ? "offline" : "reconnecting");
      if (line.textContent !== text) {
        line.textContent = text;
        this._announce(text);
      }
    } else line.textContent = "";
  }

  private _announce(text: string): void {
    const region = this._el(".sr");
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  }
}
