import Fastify, { type FastifyInstance } from "fastify";
import { buildApp } from "../app.js";
import type { Config } from "../config.js";
import { RateLimits } from "../domain/rate-limit.js";
import { metricsRoute } from "../http/routes/metrics.js";
import { sharedLoginAttempts } from "../index/redis/login-attempts.js";
import { RedisSharedCounts, syncRateCounts } from "../index/redis/rate-counts.js";
import { openSharedIndex, requireCurrentSchema } from "../index/redis/shared.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { logBanner } from "./banner.js";
import { bootstrapFirstAdmin } from "./first-admin.js";
import { openAuth, openRuntime, requireRedisUrl, roomBasics } from "./runtime.js";
import { onShutdownSignal, stopGracefully } from "./shutdown.js";
import { createWaitingRoom } from "./waiting-room.js";

export const VERSION = "0.1.0";

/**
 * `anteroom serve`: the HTTP API, listening until SIGTERM/SIGINT, then a graceful stop. In embedded mode
 * it also rebuilds the hot index from the record and runs the worker loop in this process; with
 * PostgreSQL it is an API process only, sharing the Redis index with other API processes and workers.
 */
export async function serve(config: Config): Promise<FastifyInstance> {
  const production = config.mode === "production";
  const logger = createLogger(config).child({ process: "api" });
  const runtime = await openRuntime(config, logger, { migrate: !production });
  if (production) await requireCurrentSchema(() => runtime.store.pendingMigrations());
  await bootstrapFirstAdmin(runtime);
  const shared = production ? await openSharedIndex(requireRedisUrl(config), logger, "api") : undefined;
  // Login counters go where the API processes can share them: Redis in production (falling back to this
  // process while it is away), this process in embedded mode.
  const auth = openAuth(
    runtime,
    shared === undefined ? undefined : sharedLoginAttempts(shared.redis, runtime.clock, logger),
  );
  const room = await createWaitingRoom({
    ...roomBasics(runtime),
    metrics: new Metrics(500, { defaultMetrics: true }),
    ...(shared === undefined
      ? {}
      : { index: shared.index, events: { publish: shared.events, local: shared.events.local } }),
  });
  if (shared === undefined) {
    // Embedded: this process holds the index; rebuild it from the record before taking traffic.
    const started = Date.now();
    const loaded = await room.prepare();
    logger.info({ tickets: loaded, ms: Date.now() - started }, "hot index rebuilt from the record");
  }
  // Production: one limit across API processes, counts pushed to Redis four times a second.
  const rateLimits = new RateLimits(
    config.rateLimits,
    runtime.clock,
    shared === undefined ? {} : { shared: new RedisSharedCounts(shared.redis) },
  );
  const stopRateSync = shared === undefined ? undefined : syncRateCounts(rateLimits, 250, logger);
  const app = await buildApp({
    store: runtime.store,
    clock: runtime.clock,
    keys: runtime.keys,
    auth,
    room,
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    logger,
    trustProxy: config.trustProxy,
    rateLimits,
    version: VERSION,
    metrics: { serve: config.metricsPort === undefined, token: config.metricsToken },
    readiness: [{ name: "record", check: () => runtime.store.ping() }, ...(shared ? [shared.readiness] : [])],
  });
  await app.listen({ port: config.port, host: config.host });
  // /metrics on a port of its own, for a network the public never reaches.
  const metricsServer = config.metricsPort === undefined ? undefined : Fastify({ logger: false });
  if (metricsServer !== undefined) {
    await metricsServer.register(metricsRoute(room.metrics, { token: config.metricsToken }));
    await metricsServer.listen({ port: config.metricsPort, host: config.host });
  }
  // Embedded mode runs the worker in this process; in production `anteroom worker` processes do.
  if (!production) room.loop.start();
  // Another process may rotate the signing keys; the change event is the fast path, this the fallback.
  const keysRefresh = production
    ? setInterval(() => {
        room.admission
          .refresh()
          .catch((error: unknown) => logger.warn({ err: error }, "could not reload signing keys"));
      }, 60_000)
    : undefined;
  keysRefresh?.unref();
  logBanner(logger, config, "serve", app.server.address());
  onShutdownSignal(logger, () =>
    stopGracefully(app, async () => {
      await metricsServer?.close();
      stopRateSync?.();
      await room.close();
      await shared?.close();
      await runtime.close();
    }),
  );
  return app;
}
