import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { VisitorStatus } from "../domain/visitor-status.js";
import type { VisitorTicketRef } from "../domain/visitor-token.js";
import type { QueueActivity } from "../index/activity.js";
import type { IndexedTicket, QueueIndex } from "../index/types.js";
import type { VisitorService } from "./visitors.js";

/**
 * Where a connected visitor's events go: the transport (http/routes/events.ts) writes them as Server-Sent
 * Events. The hub decides what and when; the sink only formats and writes.
 */
export interface EventSink {
  /** Writes one status event with its id. */
  status(id: number, status: VisitorStatus): void;
  /** Writes a comment line (the keepalive). */
  comment(text: string): void;
  /** Bytes written but not yet taken by the client (a client that stops reading is dropped). */
  backlog(): number;
  /** Ends the stream, with a reconnect delay hint first when given. */
  end(retryMs?: number): void;
}

export interface QueueEventsOptions {
  /** A comment line to every stream this often, so proxies and browsers keep it open (15 s). */
  keepaliveMs?: number;
  /** At most one waiting-status event per visitor this often; a release is never held back (2 s). */
  coalesceMs?: number;
  /**
   * Each queue with connected visitors is refreshed at least this often (2 s): a lost activity message never
   * leaves a visitor stale for long, and the refresh is the connected visitors' heartbeat.
   */
  refreshMs?: number;
  /** Refreshes of one queue start at most this often, however busy its activity (250 ms). */
  minGapMs?: number;
  /** The reconnect hint sent when the process shuts down (1 s). */
  shutdownRetryMs?: number;
  /**
   * A client that leaves this many bytes unread in this process (past what the kernel's socket buffer took)
   * is dropped (16 KiB, some 60 events): it reconnects and gets the current status then. Bounds what a
   * stalled client can make the server hold.
   */
  maxBacklogBytes?: number;
  /**
   * Streams this process holds at most, whoever asks; past it a new stream is refused (the browser polls
   * instead), so streams never take the sockets the process needs for everything else. Default: from the
   * process's open-files limit (start/compose-api.ts), else 10,000.
   */
  maxStreams?: number;
  /** Real time in ms for coalescing and pacing (tests may step it); not the waiting room's clock. */
  realNow?: () => number;
}

export interface QueueEventsDeps {
  index: QueueIndex;
  visitors: VisitorService;
  clock: Clock;
  activity: QueueActivity;
  logger?: Logger;
  options?: QueueEventsOptions;
}

/** One connected visitor's stream. */
export interface Subscription {
  readonly ref: VisitorTicketRef;
  /** Stops the subscription (the client went away); idempotent. */
  close(): void;
}

interface Subscriber extends Subscription {
  sink: EventSink;
  /** The id of the last event sent: the next is larger, whatever the hub's counter says. */
  lastId: number;
  last: VisitorStatus;
  lastSentAt: number;
  /** When it subscribed (real time): a refresh that asked the index before then knows less than it does. */
  since: number;
  /** A changed waiting status held back by coalescing, sent when its time comes (or replaced). */
  pending: VisitorStatus | undefined;
  closed: boolean;
}

interface QueueGroup {
  queueId: string;
  /** Connected visitors by ticket: usually one each, more with several tabs. */
  bySeq: Map<number, Subscriber[]>;
  refreshing: boolean;
  again: boolean;
  timer: NodeJS.Timeout | undefined;
  lastRefreshAt: number;
}

const DEFAULTS = {
  keepaliveMs: 15_000,
  coalesceMs: 2_000,
  refreshMs: 2_000,
  minGapMs: 250,
  shutdownRetryMs: 1_000,
  maxBacklogBytes: 16 * 1024,
  maxStreams: 10_000,
};

/** Events the flush writes between two turns of the event loop. */
const SLICE = 1_000;

const isTerminal = (status: VisitorStatus): boolean => status.status !== "waiting";

function sameStatus(a: VisitorStatus, b: VisitorStatus): boolean {
  return (
    a.status === b.status &&
    a.position === b.position &&
    a.users_ahead === b.users_ahead &&
    a.estimated_wait_seconds === b.estimated_wait_seconds &&
    a.queue_size === b.queue_size &&
    a.poll_after_seconds === b.poll_after_seconds
  );
}

/**
 * The API process's live-updates hub: its connected visitors (SSE streams), grouped by queue. When a queue
 * changes (queue activity: a release batch, expiries, this process's joins and cancels) the hub asks the
 * hot index about all of its connected visitors of that queue in ONE call (`QueueIndex.ranks`), which is
 * also their heartbeat, and sends each visitor whose status changed an event: a release or another end at
 * once (then the stream ends), a new place or estimate at most once per `coalesceMs`. Every queue with
 * connected visitors is also refreshed every `refreshMs`, so a lost activity message costs a few seconds at
 * most and connected visitors are never expired as abandoned. Work per change is one index call per queue
 * plus one status per connected visitor of that queue: never a message or a call per visitor.
 */
export class QueueEventsHub {
  private readonly groups = new Map<string, QueueGroup>();
  /** Waiting statuses held back by coalescing. */
  private readonly pending = new Set<Subscriber>();
  private readonly options: Required<Omit<QueueEventsOptions, "realNow">>;
  private readonly realNow: () => number;
  private readonly timers: NodeJS.Timeout[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Refreshes whose ends (releases) are still being sent: places wait until they are out. */
  private holding = 0;
  private readonly unsubscribe: () => void;
  /** Event ids: from the time the hub started, so they keep increasing across reconnects and restarts. */
  private nextId: number;
  private closed = false;
  private count = 0;

  constructor(private readonly deps: QueueEventsDeps) {
    this.options = { ...DEFAULTS, ...withoutUndefined(deps.options ?? {}) };
    this.realNow = deps.options?.realNow ?? Date.now;
    this.nextId = this.realNow();
    this.unsubscribe = deps.activity.subscribe((queueId) => this.requestRefresh(queueId));
    const keepalive = setInterval(() => this.keepalive(), this.options.keepaliveMs);
    const refresh = setInterval(() => {
      for (const queueId of this.groups.keys()) this.requestRefresh(queueId);
    }, this.options.refreshMs);
    keepalive.unref();
    refresh.unref();
    this.timers.push(keepalive, refresh);
  }

  /** Connected visitors in this process. */
  get size(): number {
    return this.count;
  }

  /** Whether the process holds as many streams as it may. */
  get full(): boolean {
    return this.count >= this.options.maxStreams;
  }

  /** Streams this process holds for one place (tabs of one browser). */
  streamsOf(ref: VisitorTicketRef): number {
    return this.groups.get(ref.queueId)?.bySeq.get(ref.seq)?.length ?? 0;
  }

  /** Queues with connected visitors in this process. */
  get queueCount(): number {
    return this.groups.size;
  }

  /**
   * Sends the visitor's current status at once, then its changes. A terminal status ends the stream
   * straight away (and nothing is kept). `lastEventId` is the client's Last-Event-ID, if any: ids continue
   * above it.
   */
  subscribe(
    ref: VisitorTicketRef,
    status: VisitorStatus,
    sink: EventSink,
    lastEventId?: number,
  ): Subscription | undefined {
    const sub: Subscriber = {
      ref,
      sink,
      lastId: lastEventId ?? 0,
      last: status,
      lastSentAt: this.realNow(),
      since: this.realNow(),
      pending: undefined,
      closed: false,
      close: () => this.remove(sub),
    };
    if (this.closed) {
      sink.end(this.options.shutdownRetryMs);
      return undefined;
    }
    this.send(sub, status);
    if (isTerminal(status)) {
      sub.closed = true;
      sink.end();
      return undefined;
    }
    let group = this.groups.get(ref.queueId);
    if (group === undefined) {
      group = {
        queueId: ref.queueId,
        bySeq: new Map(),
        refreshing: false,
        again: false,
        timer: undefined,
        lastRefreshAt: 0,
      };
      this.groups.set(ref.queueId, group);
    }
    const same = group.bySeq.get(ref.seq);
    if (same === undefined) group.bySeq.set(ref.seq, [sub]);
    else same.push(sub);
    this.count++;
    return sub;
  }

  /** Looks at a queue again soon: at once unless it was refreshed within `minGapMs`. */
  requestRefresh(queueId: string): void {
    const group = this.groups.get(queueId);
    if (group === undefined || this.closed) return;
    if (group.refreshing) {
      group.again = true;
      return;
    }
    if (group.timer !== undefined) return;
    const wait = Math.max(0, group.lastRefreshAt + this.options.minGapMs - this.realNow());
    group.timer = setTimeout(() => {
      group.timer = undefined;
      void this.refresh(group);
    }, wait);
  }

  /** Ends every stream with a short reconnect hint (the process is stopping), and stops the hub. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers) clearInterval(timer);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    for (const group of this.groups.values()) {
      if (group.timer !== undefined) clearTimeout(group.timer);
      for (const subs of group.bySeq.values()) {
        for (const sub of subs) {
          sub.closed = true;
          sub.sink.end(this.options.shutdownRetryMs);
        }
      }
    }
    this.groups.clear();
    this.pending.clear();
    this.count = 0;
  }

  /**
   * One index call for all of the queue's connected visitors, then their statuses. Ends (a release above
   * all) are sent as soon as their status is known; changed places only become pending, and the flush sends
   * them a slice at a time (yielding to the event loop between slices), so a refresh stays short however
   * many are connected: the next one, with the next release, is never held up behind thousands of writes.
   */
  private async refresh(group: QueueGroup): Promise<void> {
    group.refreshing = true;
    const asked = this.realNow();
    group.lastRefreshAt = asked;
    try {
      const seqs = [...group.bySeq.keys()];
      if (seqs.length === 0) return;
      const answers = await this.deps.index.ranks(group.queueId, seqs, this.deps.clock.now());
      const ends: Promise<void>[] = [];
      // First sightings of releases, recorded once the releases are out.
      const admissions: (() => Promise<unknown>)[] = [];
      this.holding++;
      try {
        for (let i = 0; i < seqs.length; i++) {
          const answer = answers[i];
          const seq = seqs[i] ?? 0;
          const first = group.bySeq.get(seq)?.[0];
          if (answer === undefined || first === undefined) continue;
          const status = this.statusOf(first.ref, answer, admissions);
          if (status instanceof Promise) ends.push(status.then((s) => this.deliverAll(group, seq, s, asked)));
          else this.deliverAll(group, seq, status, asked);
        }
        if (ends.length > 0) await Promise.all(ends);
      } finally {
        this.release();
      }
      for (const admit of admissions) {
        await admit().catch((error: unknown) => {
          this.deps.logger?.warn({ err: error, queueId: group.queueId }, "could not record an admission");
        });
      }
    } catch (error) {
      this.deps.logger?.warn(
        { err: error, queueId: group.queueId },
        "live updates: could not refresh a queue; retrying at the next refresh",
      );
    } finally {
      group.refreshing = false;
      if (group.bySeq.size === 0 && this.groups.get(group.queueId) === group) {
        if (group.timer !== undefined) clearTimeout(group.timer);
        this.groups.delete(group.queueId);
      } else if (group.again) {
        group.again = false;
        this.requestRefresh(group.queueId);
      }
    }
  }

  /** The status for the index's answer; undefined when it cannot be told now (retried next refresh). */
  private statusOf(
    ref: VisitorTicketRef,
    answer: IndexedTicket,
    admissions: (() => Promise<unknown>)[],
  ): VisitorStatus | undefined | Promise<VisitorStatus | undefined> {
    try {
      const status = this.deps.visitors.statusOf(ref, answer, admissions);
      if (!(status instanceof Promise)) return status;
      return status.catch(() => undefined);
    } catch {
      return undefined;
    }
  }

  /** `asked`: when the index was asked (an end is final whenever learnt; a place may be older than a sub). */
  private deliverAll(group: QueueGroup, seq: number, status: VisitorStatus | undefined, asked: number): void {
    if (status === undefined) return;
    const subs = group.bySeq.get(seq);
    if (subs === undefined) return;
    for (const sub of [...subs]) this.deliver(sub, status, asked);
  }

  private deliver(sub: Subscriber, status: VisitorStatus, asked: number): void {
    if (sub.closed) return;
    if (isTerminal(status)) {
      this.send(sub, status);
      this.remove(sub);
      sub.sink.end();
      return;
    }
    if (sameStatus(sub.last, status)) {
      if (sub.pending !== undefined) {
        sub.pending = undefined;
        this.pending.delete(sub);
      }
      return;
    }
    if (sub.since > asked) return; // its first event came from a later answer than this one
    // Sent by the flush: at once if the visitor's window has passed, else when it does.
    sub.pending = status;
    this.pending.add(sub);
    this.scheduleFlush();
  }

  private send(sub: Subscriber, status: VisitorStatus): void {
    if (sub.pending !== undefined) {
      sub.pending = undefined;
      this.pending.delete(sub);
    }
    const id = Math.max(this.nextId++, sub.lastId + 1);
    sub.lastId = id;
    sub.last = status;
    sub.lastSentAt = this.realNow();
    sub.sink.status(id, status);
    if (sub.sink.backlog() > this.options.maxBacklogBytes) {
      // Not reading: its client will reconnect, and get the current status then.
      this.remove(sub);
      sub.sink.end();
    }
  }

  /**
   * Sends pending statuses whose coalescing window has passed, at most a slice per turn of the event loop,
   * then runs again for the rest.
   */
  /** One refresh's ends are out: pending places may go. */
  private release(): void {
    this.holding--;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.pending.size === 0 || this.holding > 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const sub of this.pending) earliest = Math.min(earliest, sub.lastSentAt + this.options.coalesceMs);
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = undefined;
        if (this.holding > 0) return; // rescheduled when the ends are out
        const now = this.realNow();
        let sent = 0;
        for (const sub of this.pending) {
          if (sub.pending !== undefined && now - sub.lastSentAt >= this.options.coalesceMs) {
            this.send(sub, sub.pending); // deletes it from the set: iteration goes on with the next
            // A slice at a time, like refreshes: then the event loop takes a turn, and this carries on.
            if (++sent >= SLICE) break;
          }
        }
        this.scheduleFlush();
      },
      Math.max(0, earliest - this.realNow()),
    );
  }

  private keepalive(): void {
    for (const group of this.groups.values()) {
      for (const subs of group.bySeq.values()) for (const sub of subs) sub.sink.comment("keepalive");
    }
  }

  private remove(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    if (sub.pending !== undefined) {
      sub.pending = undefined;
      this.pending.delete(sub);
    }
    const group = this.groups.get(sub.ref.queueId);
    const subs = group?.bySeq.get(sub.ref.seq);
    if (group === undefined || subs === undefined) return;
    const at = subs.indexOf(sub);
    if (at < 0) return;
    subs.splice(at, 1);
    this.count--;
    if (subs.length === 0) group.bySeq.delete(sub.ref.seq);
    if (group.bySeq.size === 0 && !group.refreshing) {
      if (group.timer !== undefined) clearTimeout(group.timer);
      this.groups.delete(group.queueId);
    }
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
