import Fastify, { type FastifyInstance } from "fastify";
import { buildApp } from "../app.js";
import type { Config } from "../config/index.js";
import { metricsRoute } from "../http/routes/metrics.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { openShared } from "./adapters.js";
import { logBanner } from "./banner.js";
import { composeApi } from "./compose-api.js";
import { type AlertWiring, composeWorker, type WorkerProcess } from "./compose-worker.js";
import { bootstrapFirstAdmin } from "./first-admin.js";
import { openProcessParts } from "./process.js";
import { openRuntime, requireCurrentSchema } from "./runtime.js";
import { ConnectionDrain, onShutdownSignal, stopGracefully } from "./shutdown.js";

export const VERSION = "0.1.0";

/**
 * `anteroom serve`: the HTTP API, listening until SIGTERM/SIGINT, then a graceful stop. In embedded mode the
 * process also holds the hot index (rebuilt from the record before it takes traffic) and runs the worker;
 * in production it is an API process only, sharing the Redis index with other API processes and workers.
 */
export async function serve(config: Config): Promise<FastifyInstance> {
  const embedded = config.mode === "embedded";
  const logger = createLogger(config).child({ process: "api" });
  const runtime = await openRuntime(config, logger, { migrate: embedded });
  if (!embedded) await requireCurrentSchema(runtime.store);
  await bootstrapFirstAdmin(runtime);
  const { store, clock, keys } = runtime;
  const shared = await openShared(config, runtime, "api");
  const parts = await openProcessParts({
    ...runtime,
    shared,
    issuer: config.publicUrl ?? "anteroom",
    runsWorker: embedded,
    metrics: new Metrics(500, { defaultMetrics: true }),
  });
  let worker: WorkerProcess | undefined;
  if (embedded) {
    worker = composeWorker({ store, clock, keys, logger, shared, parts, settings: workerSettings(config) });
    const started = Date.now();
    const loaded = await worker.rebuildIndex();
    logger.info({ tickets: loaded, ms: Date.now() - started }, "hot index rebuilt from the record");
  }
  const api = composeApi({
    store,
    clock,
    keys,
    logger,
    shared,
    parts,
    settings: {
      adminTokenTtlSeconds: config.adminTokenTtlSeconds,
      allowPrivateCallbacks: config.allowPrivateCallbacks,
      rateLimits: config.rateLimits,
      trustProxy: config.trustProxy,
      version: VERSION,
      metricsEndpoint: { serve: config.metricsPort === undefined, token: config.metricsToken },
    },
  });
  const app = await buildApp(api.app);
  const connections = new ConnectionDrain(app.server);
  await app.listen({ port: config.port, host: config.host });
  // /metrics on a port of its own, for a network the public never reaches.
  const metricsServer = config.metricsPort === undefined ? undefined : Fastify({ logger: false });
  if (metricsServer !== undefined) {
    await metricsServer.register(metricsRoute(parts.metrics, { token: config.metricsToken }));
    await metricsServer.listen({ port: config.metricsPort, host: config.host });
  }
  worker?.start();
  logBanner(logger, config, "serve", app.server.address());
  onShutdownSignal(logger, () =>
    stopGracefully(
      app,
      async () => {
        await metricsServer?.close();
        api.close();
        await worker?.close();
        parts.close();
        await shared.close();
        await runtime.close();
      },
      connections,
    ),
  );
  return app;
}

/** The worker's settings from the configuration (embedded `serve` and `anteroom worker` alike). */
export function workerSettings(config: Config) {
  return {
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    callbackLeaseMs: config.callbackLeaseSeconds * 1000,
    retentionDays: config.retentionDays,
    alerts: alertWiring(config),
  };
}

/** Alerting from the configuration: e-mail when SMTP_HOST is set, the webhook when WEBHOOK_URL is. */
export function alertWiring(config: Config): AlertWiring {
  const { smtp } = config;
  return {
    settings: { defaultThreshold: config.queueThreshold, cooldownMs: config.alertCooldownSeconds * 1000 },
    ...(smtp.host === undefined
      ? {}
      : {
          smtp: {
            host: smtp.host,
            port: smtp.port,
            user: smtp.user,
            pass: smtp.pass,
            from: config.adminEmail ?? "anteroom@localhost",
            to: config.adminEmail,
          },
        }),
    ...(config.webhookUrl === undefined
      ? {}
      : { webhook: { url: config.webhookUrl, format: config.webhookFormat } }),
  };
}
