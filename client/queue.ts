import { Announcer, backoffMs } from "./announce.js";
import { ApiError, apiError, cancel as cancelPlace, join, publishableKey, queueStatus } from "./api.js";
import { Formatter, viewModel } from "./format.js";
import { type Connection, LiveStatus, lost } from "./live.js";
import { pickLanguage, stringsFor } from "./locales.js";
import { Overlay, type Theme } from "./overlay.js";
import { isOwnSite, withToken } from "./site.js";
import {
  deviceSecret,
  type Place,
  parsePlace,
  placeKey,
  readPlace,
  remove,
  watch,
  writePlace,
} from "./storage.js";
import { type ClientError, isTerminal, type VisitorStatus } from "./types.js";

/**
 * /scripts/queue.js: the seed's QueueManager. A page joins a queue with the application's publishable key,
 * keeps its place across reloads and tabs, follows it live and, when released, goes to the callback URL
 * with the admission token. The overlay is drawn unless `render: false`; events serve sites that draw
 * their own.
 */
export interface QueueManagerOptions {
  /** The publishable key (pk_...); looked up from `appId` when not given. Never the secret key. */
  apiKey?: string;
  appId?: string;
  callbackUrl: string;
  lang?: string;
  theme?: Theme;
  render?: boolean;
  /** The waiting room's address; by default where this script came from. */
  baseUrl?: string;
  /** false: do not navigate on release (the site handles 'released'). */
  redirect?: boolean;
}

export interface ReleasedEvent extends VisitorStatus {
  url: string;
  preventDefault(): void;
}

type Events = {
  update: VisitorStatus & { token: string };
  released: ReleasedEvent;
  error: ClientError;
};
type Listener<K extends keyof Events> = (event: Events[K]) => unknown;

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;
const scriptUrl = script?.src ? new URL(script.src) : undefined;

/** Messages for codes the API or the script gives, in the overlay's language. */
const MESSAGES: Record<string, string> = {
  secret_key_in_browser: "widget.secret_key",
  callback_refused: "widget.callback_refused",
  conflict: "widget.conflict",
  device_required: "widget.device_required",
};
/** Failures that joining again cannot mend. */
const SETUP = ["conflict", "invalid_api_key", "origin_not_allowed", "secret_key_in_browser", "not_found"];
/** Failures worth trying again by themselves. */
const TRANSIENT = ["network", "rate_limited", "unavailable", "internal_error"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class QueueManager {
  /** The manager the script made by itself from its URL and the page's, if any. */
  static auto: QueueManager | undefined;

  private readonly _base: string;
  private readonly _format: Formatter;
  private readonly _overlay: Overlay | undefined;
  private readonly _listeners: { [K in keyof Events]: Listener<K>[] } = {
    update: [],
    released: [],
    error: [],
  };
  private readonly _announcer = new Announcer();
  private _live: LiveStatus | undefined;
  private _unwatch: (() => void) | undefined;
  private _place: Place | undefined;
  private _storageKey = "";
  private _joining: [string, string] | undefined;

  constructor(private readonly options: QueueManagerOptions) {
    this._base = (options.baseUrl ?? scriptUrl?.origin ?? location.origin).replace(/\/+$/, "");
    const lang = pickLanguage(options.lang, document.documentElement.lang, navigator.language);
    this._format = new Formatter(lang, stringsFor(lang));
    const theme: Theme = options.theme === "dark" || options.theme === "light" ? options.theme : "auto";
    this._overlay =
      options.render === false
        ? undefined
        : new Overlay(this._format, theme, {
            cancel: () => void this.cancel(),
            rejoin: () => {
              if (this._joining !== undefined) void this.joinQueue(...this._joining);
            },
          });
  }

  on<K extends keyof Events>(event: K, listener: Listener<K>): this {
    this._listeners[event].push(listener);
    return this;
  }

  off<K extends keyof Events>(event: K, listener: Listener<K>): this {
    const list = this._listeners[event];
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
    return this;
  }

  /** Calls the listeners; false when one of them returned false. */
  private _emit<K extends keyof Events>(event: K, detail: Events[K]): boolean {
    let proceed = true;
    for (const listener of [...this._listeners[event]]) {
      try {
        if (listener(detail) === false) proceed = false;
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
    return proceed;
  }

  private _fail(code: string, message: string, retry = false): void {
    const key = MESSAGES[code] ?? `errors.${code}`;
    const text = this._format.has(key) ? this._format.t(key) : this._format.t("errors.internal_error");
    console.warn(`[anteroom] ${code}: ${message}`);
    this._emit("error", { code, message });
    this._overlay?.error(text, retry);
  }

  /** Joins (or finds again) this visitor's place and follows it until it ends. */
  async joinQueue(queueId: string, visitorId: string): Promise<void> {
    this._stop();
    this._joining = [queueId, visitorId];
    if (document.body === null) {
      await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
    }
    this._overlay?.open();
    const { apiKey, appId, callbackUrl } = this.options;
    if (apiKey?.startsWith("ak_")) {
      this._fail(
        "secret_key_in_browser",
        "never put the secret API key (ak_...) in a page: use the publishable key (pk_...) or app_id",
      );
      return;
    }
    if (!isOwnSite(callbackUrl, location)) {
      this._fail("callback_refused", `callbackUrl ${callbackUrl} is not on this site (${location.host})`);
      return;
    }
    try {
      if (apiKey === undefined && appId === undefined) {
        throw new ApiError("invalid_api_key", "give apiKey (the publishable key) or appId");
      }
      const key = apiKey ?? (await this._retrying(() => publishableKey(this._base, appId ?? "")));
      this._storageKey = placeKey(appId ?? key, queueId, visitorId);
      const kept = readPlace(this._storageKey);
      if (kept !== undefined) {
        const status = await this._retrying(() => queueStatus(this._base, kept.token)).catch(
          (error: ApiError) => {
            if (error.code !== "invalid_token") throw error;
          },
        );
        if (status && (status.status === "waiting" || status.status === "released")) {
          this._follow(kept, status);
          return;
        }
        remove(this._storageKey);
      }
      const answer = await this._retrying(() =>
        join(this._base, {
          key,
          device: deviceSecret(),
          queueId,
          visitorId,
          returnTo: new URL(callbackUrl, location.href).toString(),
        }),
      );
      this._follow({ token: answer.token, start: answer.position ?? 0 }, answer);
    } catch (caught) {
      const error = apiError(caught);
      // Joining again cannot help a place held by another browser or a page that is set up wrongly.
      this._fail(error.code, error.message, !SETUP.includes(error.code));
    }
  }

  /** Runs `call` again after transient failures (network, 429, 503), backing off with jitter. */
  private async _retrying<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await call();
        this._overlay?.connection("live");
        return result;
      } catch (error) {
        if (!(error instanceof ApiError) || !TRANSIENT.includes(error.code) || attempt >= 8) throw error;
        this._overlay?.connection(lost());
        await sleep(
          error.retryAfter !== undefined
            ? error.retryAfter * 1000
            : backoffMs(attempt, 1_000, 30_000, Math.random),
        );
      }
    }
  }

  /** Follows a place: keeps it for reloads and tabs, draws it, and listens for changes. */
  private _follow(place: Place, status: VisitorStatus): void {
    this._place = place;
    writePlace(this._storageKey, place);
    this._unwatch = watch(this._storageKey, (value) => this._otherTab(value));
    this._show(status);
    if (isTerminal(status.status)) return;
    this._live = new LiveStatus({
      base: this._base,
      token: place.token,
      onStatus: (next) => this._show(next),
      onError: (error) => {
        remove(this._storageKey);
        this._fail(error.code, error.message, true);
      },
      onConnection: (state: Connection) => this._overlay?.connection(state),
    });
    this._live.start();
  }

  /** Another tab changed the kept place: follow its token, or ask again when it was removed. */
  private _otherTab(value: string | null): void {
    const other = parsePlace(value);
    if (other === undefined) {
      this._live?.resume();
    } else if (other.token !== this._place?.token) {
      this._stop();
      void queueStatus(this._base, other.token).then(
        (status) => this._follow(other, status),
        () => undefined,
      );
    }
  }

  private _show(status: VisitorStatus): void {
    const place = this._place;
    if (place === undefined) return;
    if (status.position !== null && status.position > place.start) {
      place.start = status.position;
      writePlace(this._storageKey, place);
    }
    this._emit("update", { ...status, token: place.token });
    const view = viewModel(this._format, status, place.start);
    const now = Date.now();
    let announcement: string | undefined;
    if (status.status === "waiting" && status.position !== null) {
      if (this._announcer.position(status.position, now))
        announcement = `${view.positionSentence}. ${view.wait}`;
    } else if (this._announcer.ended(status.status)) {
      announcement = view.ended;
    }
    if (status.status === "released") {
      this._release(status, view, announcement);
      return;
    }
    this._overlay?.render(view, announcement);
    if (isTerminal(status.status)) {
      remove(this._storageKey);
      this._stop();
    }
  }

  /** Released: tell the site, then go to the callback URL with the admission token (on this site only). */
  private _release(status: VisitorStatus, view: ReturnType<typeof viewModel>, announcement?: string): void {
    this._stop();
    const token = status.access_token ?? "";
    let url = status.redirect_url;
    if (url === undefined || !isOwnSite(url, location))
      url = withToken(this.options.callbackUrl, token, location.href);
    if (!isOwnSite(url, location)) {
      this._fail("callback_refused", `not sending the visitor to ${url}: not on this site`);
      return;
    }
    let prevented = this.options.redirect === false;
    const proceed = this._emit("released", {
      ...status,
      url,
      preventDefault: () => {
        prevented = true;
      },
    });
    this._overlay?.render(view, announcement, url);
    if (proceed && !prevented) location.assign(url);
  }

  /** Leaves the line: the place is given up on the server and forgotten here. */
  async cancel(): Promise<void> {
    const place = this._place;
    if (place === undefined) return;
    this._stop();
    try {
      const status = await this._retrying(() => cancelPlace(this._base, place.token));
      remove(this._storageKey);
      this._show(status);
    } catch (caught) {
      const error = apiError(caught);
      if (error.code === "invalid_token") remove(this._storageKey);
      this._fail(error.code, error.message, true);
    }
  }

  private _stop(): void {
    this._live?.stop();
    this._live = undefined;
    this._unwatch?.();
    this._unwatch = undefined;
  }
}

declare global {
  interface Window {
    QueueManager: typeof QueueManager;
  }
}

window.QueueManager = QueueManager;

/** Joins by itself when the script's URL names the application and the page's names queue and visitor. */
function autoStart(): void {
  const params = scriptUrl?.searchParams;
  const page = new URLSearchParams(location.search);
  const appId = params?.get("app_id");
  const queueId = page.get("queue_id");
  const visitorId = page.get("visitor_id");
  if (!appId || !queueId || !visitorId) return;
  const here = new URL(location.href);
  here.searchParams.delete("queue_id");
  here.searchParams.delete("visitor_id");
  const theme = params?.get("theme") ?? page.get("theme");
  const manager = new QueueManager({
    appId,
    callbackUrl: params?.get("callback_url") ?? here.toString(),
    lang: params?.get("lang") ?? page.get("lang") ?? undefined,
    theme: theme === "light" || theme === "dark" ? theme : "auto",
  });
  QueueManager.auto = manager;
  void manager.joinQueue(queueId, visitorId);
}

autoStart();
