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
  private source: EventSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every (re)start and stop: answers for an older generation are dropped. */
  private generation = 0;
  private failures = 0;
  private sseErrors = 0;
  private sseRefusals = 0;
  private sseAfter = 0;
  private hiddenAt = 0;
  private stopped = true;
  private readonly random: () => number;
  private readonly listeners: [EventTarget, string, () => void][];

  constructor(private readonly options: LiveOptions) {
    this.random = options.random ?? Math.random;
    const resume = () => this.resume();
    this.listeners = [
      [window, "online", resume],
      [window, "offline", () => this.connection("offline")],
      [document, "visibilitychange", () => this.visibility()],
      [window, "pageshow", resume],
    ];
  }

  get token(): string {
    return this.options.token;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const [target, name, listener] of this.listeners) target.addEventListener(name, listener);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.close();
    for (const [target, name, listener] of this.listeners) target.removeEventListener(name, listener);
  }

  /** Asks again now (after a network drop or sleep), with the same token. */
  resume(): void {
    if (this.stopped) return;
    this.failures = 0;
    this.sseErrors = 0;
    this.close();
    this.connect();
  }

  private visibility(): void {
    if (document.visibilityState === "hidden") this.hiddenAt = Date.now();
    else if (Date.now() - this.hiddenAt > STALE_MS) this.resume();
  }

  private close(): void {
    this.generation++;
    this.source?.close();
    this.source = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private connection(state: Connection): void {
    this.options.onConnection?.(state);
  }

  private later(ms: number, then: () => void): void {
    const generation = this.generation;
    this.timer = setTimeout(() => {
      if (generation === this.generation && !this.stopped) then();
    }, ms);
  }

  private connect(): void {
    if (this.stopped) return;
    if (typeof EventSource === "function" && Date.now() >= this.sseAfter) this.stream();
    else void this.poll();
  }

  private deliver(status: VisitorStatus): void {
    this.options.onStatus(status);
    if (isTerminal(status.status)) this.stop();
  }

  private stream(): void {
    const generation = ++this.generation;
    const source = new EventSource(eventsUrl(this.options.base, this.options.token));
    this.source = source;
    let opened = false;
    source.addEventListener("open", () => {
      opened = true;
      this.failures = 0;
      this.sseErrors = 0;
      this.sseRefusals = 0;
      this.connection("live");
    });
    source.addEventListener("status", (event) => {
      if (generation !== this.generation) return;
      let status: VisitorStatus;
      try {
        status = JSON.parse((event as MessageEvent<string>).data) as VisitorStatus;
      } catch {
        return;
      }
      this.sseErrors = 0;
      this.deliver(status);
    });
    source.addEventListener("error", () => {
      if (generation !== this.generation) return;
      const refused = source.readyState === EventSource.CLOSED;
      if (!refused && ++this.sseErrors < SSE_ERRORS) {
        // The browser reconnects by itself after the server's `retry:`.
        this.connection(navigator.onLine === false ? "offline" : "reconnecting");
        return;
      }
      // Refused (no such endpoint yet, a bad token, a proxy in the way) or failing: poll, which also says
      // why, and try the stream again later (much later when it never opened: the server may not have it).
      this.sseRefusals++;
      this.sseAfter =
        Date.now() +
        (opened
          ? backoffMs(this.sseRefusals, 2_000, 60_000, this.random)
          : backoffMs(this.sseRefusals, 60_000, 600_000, this.random));
      this.close();
      void this.poll();
    });
  }

  private async poll(): Promise<void> {
    const generation = ++this.generation;
    try {
      const status = await queueStatus(this.options.base, this.options.token);
      if (generation !== this.generation || this.stopped) return;
      this.failures = 0;
      this.connection("live");
      this.deliver(status);
      if (!this.stopped)
        this.later(pollDelayMs(status.poll_after_seconds, this.random), () => this.connect());
    } catch (caught) {
      if (generation !== this.generation || this.stopped) return;
      const error = caught as ApiError;
      if (error.code === "invalid_token") {
        this.stop();
        this.options.onError(error);
        return;
      }
      this.failures++;
      this.connection(navigator.onLine === false ? "offline" : "reconnecting");
      const wait =
        error.retryAfter !== undefined
          ? error.retryAfter * 1000
          : backoffMs(this.failures, 1_000, 30_000, this.random);
      this.later(wait, () => this.connect());
    }
  }
}
