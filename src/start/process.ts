import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { DerivedKeys } from "../domain/secrets.js";
import { LocalQueueActivity, type QueueActivity } from "../index/activity.js";
import { Metrics } from "../observability/metrics.js";
import { ActiveQueues } from "../services/active-queues.js";
import { AdmissionKeys } from "../services/admission-keys.js";
import type { Store } from "../store/types.js";
import type { Shared } from "./adapters.js";

/** Another process may rotate the signing keys; its change event is the fast path, this the fallback. */
const KEYS_REFRESH_MS = 60_000;
/** How stale the live-queue list may be when metrics are scraped (an API process has no worker loop). */
const QUEUES_FOR_METRICS_MAX_AGE_MS = 5_000;

/** What every part of a process is built from: the record, the clock, the keys, the log, the shared state. */
export interface ProcessBasics {
  store: Store;
  clock: Clock;
  keys: DerivedKeys;
  logger: Logger;
  shared: Shared;
}

export interface ProcessDeps extends ProcessBasics {
  /** `iss` of admission tokens. */
  issuer: string;
  /** Whether this process runs a worker (its live-queue list then keeps the index's queue figures). */
  runsWorker: boolean;
  metrics?: Metrics;
}

/**
 * What the API and the worker share when they run in one process, built once per process: the metrics
 * registry, the admission signing keys (kept current by change events and a periodic reload), and the
 * live queues (which also feed the queue_size gauge, in API processes too).
 */
export interface ProcessParts {
  metrics: Metrics;
  admission: AdmissionKeys;
  queues: ActiveQueues;
  /**
   * Queue activity: the worker notifies (one notice per queue per release batch), the API's live-updates
   * hub listens. Shared through Redis in production, in this process when API and worker share it.
   */
  activity: QueueActivity;
  close(): void;
}

export async function openProcessParts(deps: ProcessDeps): Promise<ProcessParts> {
  const { store, clock, logger } = deps;
  const { index } = deps.shared;
  const metrics = deps.metrics ?? new Metrics();
  const admission = new AdmissionKeys(store.signingKeys, deps.keys.atRestReaders, clock, deps.issuer);
  await admission.init();
  const queues = new ActiveQueues({ store, index, clock, maintainsIndex: deps.runsWorker });
  const reloadKeys = () =>
    admission
      .refresh()
      .catch((error: unknown) => logger.warn({ err: error }, "could not reload signing keys"));
  const unsubscribe = deps.shared.events.local.subscribe((change) => {
    if (change.kind === "keys") void reloadKeys();
  });
  const keysTimer = setInterval(() => void reloadKeys(), KEYS_REFRESH_MS);
  keysTimer.unref();
  metrics.collectQueueSizes(async () => {
    // The worker's loop keeps the list fresh; an API process reads it again when it is getting old.
    if (!deps.runsWorker) await queues.refreshIfOlderThan(QUEUES_FOR_METRICS_MAX_AGE_MS);
    return Promise.all(
      queues.all().map(async (queue) => ({
        queueId: queue.id,
        applicationId: queue.application_id,
        name: queue.name,
        mode: queue.mode,
        size: await index.waitingCount(queue.id),
        ratePerMinute: queue.max_users_per_minute,
      })),
    );
  });
  return {
    metrics,
    admission,
    queues,
    activity: deps.shared.activity ?? new LocalQueueActivity(),
    close() {
      clearInterval(keysTimer);
      unsubscribe();
    },
  };
}
