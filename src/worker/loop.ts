import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { ActiveQueues } from "../services/active-queues.js";
import type { CallbackDispatcher } from "./callbacks/dispatcher.js";
import type { Expiry } from "./release/expiry.js";
import type { Releaser } from "./release/releaser.js";

export interface LoopIntervals {
  /** Longest sleep of the release task when nothing is due sooner. */
  releaseIdleMs: number;
  /** Shortest sleep of the release task (the finest release granularity). */
  releaseMinMs: number;
  expiryMs: number;
  callbacksMs: number;
  refreshMs: number;
}

export const DEFAULT_INTERVALS: LoopIntervals = {
  releaseIdleMs: 250,
  releaseMinMs: 10,
  expiryMs: 1_000,
  callbacksMs: 250,
  refreshMs: 5_000,
};

/** What the loop drives, as far as it calls them. */
export interface WorkerParts {
  queues: Pick<ActiveQueues, "refresh">;
  releaser: Pick<Releaser, "releaseDue">;
  expiry: Pick<Expiry, "expire">;
  dispatcher: Pick<CallbackDispatcher, "onSettled" | "startDue" | "drain">;
}

/** The longest a failing task waits before its next try (unless its own interval is longer). */
const MAX_RETRY_MS = 30_000;

/** One round of a task; resolves to how long to wait before the next. */
type Task = () => Promise<number>;

/**
 * Runs the worker's tasks forever: release (waking when the next release is due), expiry, callback
 * delivery and settings refresh. Each task reschedules itself after it finishes, so a slow round never
 * overlaps the next. A failing task is logged and tried again after its interval, doubled at each failure
 * in a row up to half a minute (a record that is down is not asked, and logged about, four times a second).
 *
 * The callbacks task only claims and starts deliveries, which go on in the background; each one that
 * settles frees a slot and wakes the task, so claiming never waits for a slow delivery, and a freed slot
 * does not wait for the interval.
 */
export class WorkerLoop {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  /** Runs a waiting task now, by name. */
  private readonly wakers = new Map<string, () => void>();
  /** Tasks woken while running: they go again as soon as they finish. */
  private readonly woken = new Set<string>();
  /** Failures in a row, by task. */
  private readonly failures = new Map<string, number>();
  private stopped = true;
  private refreshWanted = false;
  private readonly extra: { name: string; everyMs: number; run: () => Promise<unknown> }[] = [];

  constructor(
    private readonly parts: WorkerParts,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervals: LoopIntervals = DEFAULT_INTERVALS,
  ) {
    parts.dispatcher.onSettled(() => this.wake("callbacks"));
  }

  /** Another periodic task (production adds index rebuild and reconciliation); call before start(). */
  addTask(name: string, everyMs: number, run: () => Promise<unknown>): void {
    this.extra.push({ name, everyMs, run });
  }

  start(): void {
    this.stopped = false;
    for (const task of this.extra) {
      this.schedule(task.name, 0, task.everyMs, async () => {
        await task.run();
        return task.everyMs;
      });
    }
    const { queues, releaser, expiry, dispatcher } = this.parts;
    const { releaseIdleMs, releaseMinMs, expiryMs, callbacksMs, refreshMs } = this.intervals;
    this.schedule("release", 0, releaseIdleMs, async () => {
      if (this.refreshWanted) {
        this.refreshWanted = false;
        await queues.refresh();
      }
      const due = await releaser.releaseDue();
      const wait = due === undefined ? releaseIdleMs : due - this.clock.now();
      return Math.min(releaseIdleMs, Math.max(releaseMinMs, wait));
    });
    this.schedule("expiry", expiryMs, expiryMs, async () => {
      await expiry.expire();
      return expiryMs;
    });
    this.schedule("callbacks", callbacksMs, callbacksMs, async () => {
      await dispatcher.startDue();
      return callbacksMs;
    });
    this.schedule("refresh", refreshMs, refreshMs, async () => {
      await queues.refresh();
      return refreshMs;
    });
  }

  /** Settings changed (an admin edited a queue): reload them before the next release round. */
  requestRefresh(): void {
    this.refreshWanted = true;
  }

  /** Runs `task` after `delayMs`, then again after what it returns, or after a backoff when it fails. */
  private schedule(name: string, delayMs: number, intervalMs: number, task: Task): void {
    if (this.stopped) return;
    const fire = () => {
      clearTimeout(timer);
      this.timers.delete(timer);
      this.wakers.delete(name);
      const run = task().then(
        (next) => {
          this.failures.delete(name);
          return next;
        },
        (error: unknown) => {
          const failures = (this.failures.get(name) ?? 0) + 1;
          this.failures.set(name, failures);
          const retryMs = Math.min(intervalMs * 2 ** (failures - 1), Math.max(intervalMs, MAX_RETRY_MS));
          this.logger.error({ err: error, task: name, failures, retryMs }, "worker task failed");
          return retryMs;
        },
      );
      this.running.add(run);
      void run.then((next) => {
        this.running.delete(run);
        this.schedule(name, this.woken.delete(name) ? 0 : next, intervalMs, task);
      });
    };
    const timer = setTimeout(fire, delayMs);
    this.timers.add(timer);
    this.wakers.set(name, fire);
  }

  /** Runs a task now instead of at its next time; one that is running goes again once it finishes. */
  private wake(name: string): void {
    if (this.stopped) return;
    const fire = this.wakers.get(name);
    if (fire !== undefined) fire();
    else this.woken.add(name);
  }

  /**
   * Stops scheduling and waits for the rounds in progress to finish, and for the callbacks in flight
   * (each bounded by the send timeout), so none is cut off with its outcome unrecorded.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wakers.clear();
    this.woken.clear();
    await Promise.all([...this.running]);
    await this.parts.dispatcher.drain();
  }
}
