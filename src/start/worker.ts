import Fastify from "fastify";
import type { Config } from "../config.js";
import { healthRoutes } from "../http/routes/health.js";
import { metricsRoute } from "../http/routes/metrics.js";
import { openSharedIndex, requireCurrentSchema } from "../index/redis/shared.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { IndexMaintenance } from "../worker/upkeep/maintenance.js";
import { logBanner } from "./banner.js";
import { openRuntime, requireRedisUrl, roomBasics } from "./runtime.js";
import { onShutdownSignal } from "./shutdown.js";
import { createWaitingRoom } from "./waiting-room.js";

const REBUILD_CHECK_MS = 1_000;
const RECONCILE_MS = 30_000;
const KEYS_REFRESH_MS = 60_000;

/**
 * `anteroom worker`: release, expiry, callback delivery, and upkeep of the shared hot index (rebuild when
 * Redis comes back empty, periodic reconciliation with the record). Any number of workers may run; each
 * application's release and each callback is handled by one worker at a time (row locks with SKIP LOCKED
 * in the record, leases in the outbox). Serves /metrics, /healthz and /readyz on WORKER_PORT.
 */
export async function runWorker(config: Config): Promise<void> {
  if (config.mode !== "production") {
    throw new Error(
      "anteroom worker needs a PostgreSQL DB_URL; in embedded mode `anteroom serve` runs the worker itself",
    );
  }
  const logger = createLogger(config).child({ process: "worker" });
  const runtime = await openRuntime(config, logger, { migrate: false });
  await requireCurrentSchema(() => runtime.store.pendingMigrations());
  const shared = await openSharedIndex(requireRedisUrl(config), logger, "worker");
  const metrics = new Metrics(500, { defaultMetrics: true });
  const room = await createWaitingRoom({
    ...roomBasics(runtime),
    index: shared.index,
    metrics,
    events: { publish: shared.events, local: shared.events.local },
  });
  await room.queues.refresh();
  const maintenance = new IndexMaintenance({
    store: runtime.store,
    index: shared.index,
    queues: room.queues,
    clock: runtime.clock,
    logger,
    metrics,
    tryLock: shared.tryLock,
  });
  room.loop.addTask("index-rebuild", REBUILD_CHECK_MS, () => maintenance.ensureLoaded());
  room.loop.addTask("index-reconcile", RECONCILE_MS, () => maintenance.reconcileAll());
  // Another process may have rotated the signing keys while this one missed the event.
  room.loop.addTask("signing-keys", KEYS_REFRESH_MS, () => room.admission.refresh());
  room.loop.start();

  const http = Fastify({ logger: false });
  await http.register(
    healthRoutes([{ name: "record", check: () => runtime.store.ping() }, shared.readiness]),
  );
  await http.register(metricsRoute(metrics, { token: config.metricsToken }));
  await http.listen({ port: config.workerPort, host: config.host });
  logBanner(logger, config, "worker", http.server.address());

  onShutdownSignal(logger, async () => {
    await http.close();
    await room.close();
    await shared.close();
    await runtime.close();
  });
}
