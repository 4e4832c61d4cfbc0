import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { CallbackDispatcher } from "./callback-dispatcher.js";
import type { ReleaseEngine } from "./release-engine.js";

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

type Task = () => Promise<number>;

/**
 * Runs the worker's tasks forever: release (waking when the next release is due), expiry, callback
 * delivery and settings refresh. Each task reschedules itself after it finishes, so a slow round never
 * overlaps the next; an error is logged and the task tries again after its normal interval.
 */
export class WorkerLoop {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private stopped = true;
  private refreshWanted = false;
  private readonly extra: { name: string; everyMs: number; run: () => Promise<unknown> }[] = [];

  constructor(
    private readonly engine: ReleaseEngine,
    private readonly dispatcher: CallbackDispatcher,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervals: LoopIntervals = DEFAULT_INTERVALS,
  ) {}

  /** Another periodic task (production adds index rebuild and reconciliation); call before start(). */
  addTask(name: string, everyMs: number, run: () => Promise<unknown>): void {
    this.extra.push({ name, everyMs, run });
  }

  start(): void {
    this.stopped = false;
    for (const task of this.extra) {
      this.schedule(task.name, 0, async () => {
        await task.run();
        return task.everyMs;
      });
    }
    const { releaseIdleMs, releaseMinMs, expiryMs, callbacksMs, refreshMs } = this.intervals;
    this.schedule("release", 0, async () => {
      if (this.refreshWanted) {
        this.refreshWanted = false;
        await this.engine.refresh();
      }
      const due = await this.engine.releaseDue();
      const wait = due === undefined ? releaseIdleMs : due - this.clock.now();
      return Math.min(releaseIdleMs, Math.max(releaseMinMs, wait));
    });
    this.schedule("expiry", expiryMs, async () => {
      await this.engine.expire();
      return expiryMs;
    });
    this.schedule("callbacks", callbacksMs, async () => {
      // A full batch means more may be waiting: go again at once.
      return (await this.dispatcher.dispatchDue()) > 0 ? 0 : callbacksMs;
    });
    this.schedule("refresh", refreshMs, async () => {
      await this.engine.refresh();
      return refreshMs;
    });
  }

  /** Settings changed (an admin edited a queue): reload them before the next release round. */
  requestRefresh(): void {
    this.refreshWanted = true;
  }

  private schedule(name: string, delayMs: number, task: Task): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = task().then(
        (next) => next,
        (error: unknown) => {
          this.logger.error({ err: error, task: name }, "worker task failed");
          return this.intervals.releaseIdleMs * 4;
        },
      );
      this.running.add(run);
      void run.then((next) => {
        this.running.delete(run);
        this.schedule(name, next, task);
      });
    }, delayMs);
    this.timers.add(timer);
  }

  /** Stops scheduling and waits for the rounds in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running]);
  }
}
