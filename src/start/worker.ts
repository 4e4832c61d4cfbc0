import Fastify from "fastify";
import type { Config } from "../config/index.js";
import { healthRoutes } from "../http/routes/health.js";
import { metricsRoute } from "../http/routes/metrics.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { openShared } from "./adapters.js";
import { logBanner } from "./banner.js";
import { composeWorker } from "./compose-worker.js";
import { openProcessParts } from "./process.js";
import { openRuntime, requireCurrentSchema } from "./runtime.js";
import { workerSettings } from "./server.js";
import { onShutdownSignal } from "./shutdown.js";

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
  await requireCurrentSchema(runtime.store);
  const { store, clock, keys } = runtime;
  const shared = await openShared(config, runtime, "worker");
  const parts = await openProcessParts({
    ...runtime,
    shared,
    issuer: config.publicUrl ?? "anteroom",
    runsWorker: true,
    metrics: new Metrics(500, { defaultMetrics: true }),
  });
  const worker = composeWorker({
    store,
    clock,
    keys,
    logger,
    shared,
    parts,
    settings: workerSettings(config),
  });
  await parts.queues.refresh();
  worker.start();

  const http = Fastify({ logger: false });
  await http.register(healthRoutes([{ name: "record", check: () => store.ping() }, ...shared.readiness]));
  await http.register(metricsRoute(parts.metrics, { token: config.metricsToken }));
  await http.listen({ port: config.workerPort, host: config.host });
  logBanner(logger, config, "worker", http.server.address());

  onShutdownSignal(logger, async () => {
    await http.close();
    await worker.close();
    parts.close();
    await shared.close();
    await runtime.close();
  });
}
