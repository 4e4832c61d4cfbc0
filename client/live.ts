import { backoffMs, pollDelayMs } from "./announce.js";
import { type ApiError, eventsUrl, queueStatus } from "./api.js";
import { isTerminal, type VisitorStatus } from "./types.js";

/** How the page hears of its place: a stream, polls, or trying again after a failure. */
export type Connection = "live" | "reconnecting" | "offline";

export interface LiveOptions {
  base: string;
  token: string;
  onStatus(status: VisitorStatus): void;
  /** The place is gone (invalid_token): the stream stops. */
  onError(error: ApiError): void;
  onConnection?(state: Connection): void;
  random?: () => number;
}

/** What a failed request means for the visitor: offline when the browser says so, else reconnecting. */
export const lost = (): Connection => (navigator.onLine === false ? "offline" : "reconnecting");

/** SSE errors in a row (while the browser reconnects by itself) before polling takes over for a while. */
const SSE_ERRORS = 3;
/** A tab hidden longer than this (a sleeping laptop, say) asks for its status again on return. */
const STALE_MS = 10_000;

/**
 * A place's live status: Server-Sent Events from /queue_events when the server has them, else polls of
 * /queue_status at the server's poll_after_seconds. Errors back off with jitter; coming back online or to a
 * visible tab resumes at once with the same token. Stops by itself after an ended status.
 */
export class LiveStatus {
  private _source: EventSource | undefined;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every (re)start and stop: answers for an older generation are dropped. */
  private _generation = 0;
  private _failures = 0;
  private _sseErrors = 0;
  private _sseRefusals = 0;
  private _sseAfter = 0;
  private _hiddenAt = 0;
  private _stopped = true;
  private readonly _random: () => number;
  private readonly _listeners: [EventTarget, string, () => void][];

  constructor(private readonly _options: LiveOptions) {
    this._random = _options.random ?? Math.random;
    const resume = () => this.resume();
    this._listeners = [
      [window, "online", resume],
      [window, "offline", () => this._connection("offline")],
      [document, "visibilitychange", () => this._visibility()],
      [window, "pageshow", resume],
    ];
  }

  start(): void {
    if (!this._stopped) return;
    this._stopped = false;
    for (const [target, name, listener] of this._listeners) target.addEventListener(name, listener);
    this._connect();
  }

  stop(): void {
    this._stopped = true;
    this._generation++;
    this._close();
    for (const [target, name, listener] of this._listeners) target.removeEventListener(name, listener);
  }

  /** Asks again now (after a network drop or sleep), with the same token. */
  resume(): void {
    if (this._stopped) return;
    this._failures = 0;
    this._sseErrors = 0;
    this._close();
    this._connect();
  }

  private _visibility(): void {
    if (document.visibilityState === "hidden") this._hiddenAt = Date.now();
    else if (Date.now() - this._hiddenAt > STALE_MS) this.resume();
  }

  private _close(): void {
    this._generation++;
    this._source?.close();
    this._source = undefined;
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
  }

  private _connection(state: Connection): void {
    this._options.onConnection?.(state);
  }

  private _later(ms: number, then: () => void): void {
    const generation = this._generation;
    this._timer = setTimeout(() => {
      if (generation === this._generation && !this._stopped) then();
    }, ms);
  }

  private _connect(): void {
    if (this._stopped) return;
    if (typeof EventSource === "function" && Date.now() >= this._sseAfter) this._stream();
    else void this._poll();
  }

  private _deliver(status: VisitorStatus): void {
    this._options.onStatus(status);
    if (isTerminal(status.status)) this.stop();
  }

  private _stream(): void {
    const generation = ++this._generation;
    const source = new EventSource(eventsUrl(this._options.base, this._options.token));
    this._source = source;
    let opened = false;
    source.addEventListener("open", () => {
      opened = true;
      this._failures = 0;
      this._sseErrors = 0;
      this._sseRefusals = 0;
      this._connection("live");
    });
    source.addEventListener("status", (event) => {
      if (generation !== this._generation) return;
      let status: VisitorStatus;
      try {
        status = JSON.parse((event as MessageEvent<string>).data) as VisitorStatus;
      } catch {
        return;
      }
      this._sseErrors = 0;
      this._deliver(status);
    });
    source.addEventListener("error", () => {
      if (generation !== this._generation) return;
      const refused = source.readyState === EventSource.CLOSED;
      if (!refused && ++this._sseErrors < SSE_ERRORS) {
        // The browser reconnects by itself after the server's `retry:`.
        this._connection(lost());
        return;
      }
      // Refused (no such endpoint yet, a bad token, a proxy in the way) or failing: poll, which also says
      // why, and try the stream again later (much later when it never opened: the server may not have it).
      this._sseRefusals++;
      this._sseAfter =
        Date.now() +
        (opened
          ? backoffMs(this._sseRefusals, 2_000, 60_000, this._random)
          : backoffMs(this._sseRefusals, 60_000, 600_000, this._random));
      this._close();
      void this._poll();
    });
  }

  private async _poll(): Promise<void> {
    const generation = ++this._generation;
    try {
      const status = await queueStatus(this._options.base, this._options.token);
      if (generation !== this._generation || this._stopped) return;
      this._failures = 0;
      this._connection("live");
      this._deliver(status);
      if (!this._stopped)
        this._later(pollDelayMs(status.poll_after_seconds, this._random), () => this._connect());
    } catch (caught) {
      if (generation !== this._generation || this._stopped) return;
      const error = caught as ApiError;
      if (error.code === "invalid_token") {
        this.stop();
        this._options.onError(error);
        return;
      }
      this._failures++;
      this._connection(lost());
      const wait =
        error.retryAfter !== undefined
          ? error.retryAfter * 1000
          : backoffMs(this._failures, 1_000, 30_000, this._random);
      this._later(wait, () => this._connect());
    }
  }
}
