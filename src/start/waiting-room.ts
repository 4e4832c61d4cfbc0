import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import { type ChangeEvents, LocalChangeEvents } from "../domain/events.js";
import type { DerivedKeys } from "../domain/secrets.js";
import { VisitorTokens } from "../domain/visitor-token.js";
import { MemoryQueueIndex } from "../index/memory/memory-index.js";
import type { QueueIndex } from "../index/types.js";
import { Metrics } from "../observability/metrics.js";
import { ActiveQueues } from "../services/active-queues.js";
import { AdmissionKeys } from "../services/admission-keys.js";
import { VisitorDirectory } from "../services/directory.js";
import { JoinBatcher } from "../services/join-batcher.js";
import { VisitorService } from "../services/visitors.js";
import type { Store } from "../store/types.js";
import {
  type CallbackConcurrency,
  CallbackDispatcher,
  type RetryPolicy,
} from "../worker/callbacks/dispatcher.js";
import { type CallbackSender, createCallbackSender } from "../worker/callbacks/sender.js";
import { type LoopIntervals, WorkerLoop } from "../worker/loop.js";
import { Expiry } from "../worker/release/expiry.js";
import { Releaser } from "../worker/release/releaser.js";
import { rebuildQueue } from "../worker/upkeep/rebuild.js";

export interface WaitingRoomOptions {
  store: Store;
  clock: Clock;
  keys: DerivedKeys;
  logger: Logger;
  allowPrivateCallbacks: boolean;
  /** `iss` of admission tokens. */
  issuer: string;
  index?: QueueIndex;
  metrics?: Metrics;
  sender?: CallbackSender;
  retry?: RetryPolicy;
  random?: () => number;
  intervals?: LoopIntervals;
  callbackTimeoutMs?: number;
  callbackLeaseMs?: number;
  /** Callback deliveries in flight at once, in all and per application (default 64 and 8). */
  callbackConcurrency?: CallbackConcurrency;
  /**
   * Where admin changes are published, and where this process hears them (the same local object in
   * embedded mode; Redis pub/sub across processes in production).
   */
  events?: { publish: ChangeEvents; local: LocalChangeEvents };
}

/**
 * The visitor side wired together: hot index, tokens, admission keys, join batching, the live queues,
 * release, expiry, callback delivery and the worker loop that drives them. Embedded mode runs all of it in
 * one process.
 */
export interface WaitingRoom {
  index: QueueIndex;
  tokens: VisitorTokens;
  admission: AdmissionKeys;
  metrics: Metrics;
  /** Publish admin changes here. */
  events: ChangeEvents;
  visitors: VisitorService;
  queues: ActiveQueues;
  releaser: Releaser;
  expiry: Expiry;
  dispatcher: CallbackDispatcher;
  loop: WorkerLoop;
  /** Loads settings and rebuilds the hot index from the record; returns tickets loaded. */
  prepare(): Promise<number>;
  close(): Promise<void>;
}

export async function createWaitingRoom(options: WaitingRoomOptions): Promise<WaitingRoom> {
  const { store, clock, keys, logger } = options;
  const index = options.index ?? new MemoryQueueIndex();
  const metrics = options.metrics ?? new Metrics();
  const admission = new AdmissionKeys(store.signingKeys, keys.atRestReaders, clock, options.issuer);
  await admission.init();
  const tokens = new VisitorTokens(keys.visitorToken, keys.previous?.visitorToken);
  const directory = new VisitorDirectory(store, clock);
  const local = options.events?.local ?? new LocalChangeEvents();
  const events = options.events?.publish ?? local;
  const queues = new ActiveQueues({ store, index });
  const releaser = new Releaser({
    releases: store.releases,
    index,
    queues,
    admission,
    clock,
    metrics,
    logger,
  });
  const expiry = new Expiry({ store, index, queues, clock, metrics });
  const sender =
    options.sender ??
    createCallbackSender({
      allowPrivate: options.allowPrivateCallbacks,
      timeoutMs: options.callbackTimeoutMs ?? 5_000,
    });
  const dispatcher = new CallbackDispatcher({
    store,
    sender,
    atRestKeys: keys.atRestReaders,
    clock,
    metrics,
    logger,
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.random === undefined ? {} : { random: options.random }),
    ...(options.callbackLeaseMs === undefined ? {} : { leaseMs: options.callbackLeaseMs }),
    ...(options.callbackConcurrency === undefined ? {} : { concurrency: options.callbackConcurrency }),
  });
  const loop = new WorkerLoop({ queues, releaser, expiry, dispatcher }, clock, logger, options.intervals);
  local.subscribe((change) => {
    if (change.kind === "keys") {
      admission
        .refresh()
        .catch((error: unknown) => logger.error({ err: error }, "could not reload signing keys"));
      return;
    }
    if (change.kind === "application") directory.applicationChanged();
    else directory.queueChanged(change.id);
    loop.requestRefresh();
  });
  metrics.collectQueueSizes(async () =>
    Promise.all(
      queues.all().map(async (queue) => ({
        queueId: queue.id,
        mode: queue.mode,
        size: await index.waitingCount(queue.id),
      })),
    ),
  );
  const visitors = new VisitorService({
    store,
    index,
    tokens,
    admission,
    directory,
    batcher: new JoinBatcher(store, index, clock, logger),
    clock,
    metrics,
    logger,
  });
  return {
    index,
    tokens,
    admission,
    metrics,
    events,
    visitors,
    queues,
    releaser,
    expiry,
    dispatcher,
    loop,
    async prepare() {
      await queues.refresh();
      let loaded = 0;
      for (const queue of queues.all()) loaded += await rebuildQueue(store, index, queue.id, clock.now());
      return loaded;
    },
    async close() {
      await loop.stop();
      // Deliveries started outside the loop (dispatchDue) still need the sender and the record.
      await dispatcher.drain();
      await sender.close();
      await index.close();
    },
  };
}
