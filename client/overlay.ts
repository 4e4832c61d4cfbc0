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
  private host: HTMLElement | undefined;
  private root: ShadowRoot | undefined;
  private inerted: Element[] = [];
  private previousFocus: Element | null = null;
  private overflow = "";

  constructor(
    private readonly format: Formatter,
    private readonly theme: Theme,
    private readonly actions: OverlayActions,
  ) {}

  private el<T extends HTMLElement = HTMLElement>(selector: string): T {
    return this.root?.querySelector(selector) as T;
  }

  private text(selector: string, value: string): void {
    const element = this.el(selector);
    if (element.textContent !== value) element.textContent = value;
  }

  private show(selector: string, visible: boolean): void {
    this.el(selector).hidden = !visible;
  }

  get isOpen(): boolean {
    return this.host !== undefined;
  }

  open(): void {
    if (this.host !== undefined) return;
    const host = document.createElement("div");
    host.setAttribute("data-anteroom-overlay", "");
    host.setAttribute("data-theme", this.theme);
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
    this.host = host;
    this.root = root;
    const card = this.el(".card");
    card.lang = this.format.lang;
    card.dir = this.format.lang === "ar" ? "rtl" : "ltr";
    for (const element of Array.from(root.querySelectorAll<HTMLElement>("[data-k]"))) {
      element.textContent = this.format.t(element.dataset.k ?? "");
    }
    this.el(".bar").setAttribute("aria-label", this.format.t("progress"));
    this.el(".cancel").addEventListener("click", () => this.confirm(true));
    this.el(".stay").addEventListener("click", () => this.confirm(false));
    this.el(".leave").addEventListener("click", () => {
      this.confirm(false);
      this.actions.cancel();
    });
    this.el(".rejoin").addEventListener("click", () => this.actions.rejoin());
    this.el(".close").addEventListener("click", () => this.close());
    card.addEventListener("keydown", (event) => this.key(event));

    const body = document.body;
    this.previousFocus = document.activeElement;
    for (const child of Array.from(body.children)) {
      if (!child.hasAttribute("inert") && child.tagName !== "SCRIPT") {
        child.setAttribute("inert", "");
        this.inerted.push(child);
      }
    }
    this.overflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = "hidden";
    body.append(host);
    card.focus();
  }

  close(): void {
    if (this.host === undefined) return;
    this.host.remove();
    this.host = undefined;
    this.root = undefined;
    for (const element of this.inerted) element.removeAttribute("inert");
    this.inerted = [];
    document.documentElement.style.overflow = this.overflow;
    if (this.previousFocus instanceof HTMLElement) this.previousFocus.focus();
  }

  /** Shows or hides the confirmation to leave, moving focus to its safe choice (or back). */
  private confirm(open: boolean): void {
    this.show(".confirm", open);
    this.show(".actions", !open);
    this.el(open ? ".stay" : ".cancel").focus();
  }

  /** Tab stays within the dialog; Escape closes the confirmation. */
  private key(event: KeyboardEvent): void {
    if (event.key === "Escape" && !this.el(".confirm").hidden) {
      this.confirm(false);
      return;
    }
    if (event.key !== "Tab") return;
    const focusable = Array.from(this.root?.querySelectorAll<HTMLElement>("button,a[href]") ?? []).filter(
      (element) => element.offsetParent !== null,
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (first === undefined || last === undefined) {
      event.preventDefault();
      return;
    }
    const active = this.root?.activeElement;
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
    if (this.root === undefined) return;
    const waiting = view.state === "waiting";
    this.show(".w", waiting);
    this.show(".cancel", waiting);
    this.show(".rejoin", view.state === "cancelled" || view.state === "expired");
    this.show(".close", view.state === "cancelled" || view.state === "expired");
    if (!waiting) this.show(".confirm", false);
    this.show(".actions", waiting ? this.el(".confirm").hidden : true);
    // An ended place is said in the heading (the dialog's name); released adds where the visitor goes.
    this.text("h2", waiting ? this.format.t("title") : view.ended);
    if (waiting) {
      this.text(".pos", view.position);
      this.text(".ahead", view.ahead);
      this.text(".wait", view.wait);
      const bar = this.el(".bar");
      bar.setAttribute("aria-valuenow", String(view.progress));
      bar.setAttribute("aria-valuetext", view.positionSentence);
      this.el(".fill").style.setProperty("--p", `${view.progress}%`);
    }
    this.text(".msg", waiting ? this.format.t("keep_open") : "");
    const link = this.el<HTMLAnchorElement>(".go");
    link.hidden = go === undefined;
    if (go !== undefined) {
      link.href = go;
      this.text(".msg", this.format.t("redirecting", { site: new URL(go).host }));
    }
    if (!waiting) this.el(go === undefined ? ".rejoin" : ".go").focus();
    if (announcement !== undefined) this.announce(announcement);
  }

  /** An error in words: shown, announced, with a way to try again when that may help. */
  error(message: string, canRetry: boolean): void {
    if (this.root === undefined) return;
    this.show(".w", false);
    this.show(".confirm", false);
    this.show(".actions", true);
    this.show(".cancel", false);
    this.show(".go", false);
    this.show(".rejoin", canRetry);
    this.show(".close", true);
    this.text("h2", message);
    this.text(".msg", "");
    this.el(canRetry ? ".rejoin" : ".close").focus();
    this.announce(message);
  }

  connection(state: Connection): void {
    if (this.root === undefined) return;
    const line = this.el(".conn");
    line.hidden = state === "live";
    if (state !== "live") {
      const text = this.format.t(state === "offline" ? "offline" : "reconnecting");
      if (line.textContent !== text) {
        line.textContent = text;
        this.announce(text);
      }
    } else line.textContent = "";
  }

  private announce(text: string): void {
    const region = this.el(".sr");
    region.textContent = "";
    setTimeout(() => {
      region.textContent = text;
    }, 50);
  }
}
