import type { FastifyInstance } from "fastify";
import { buildApp } from "../app.js";
import type { Config } from "../config.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { bootstrapFirstAdmin } from "./first-admin.js";
import { openRuntime } from "./runtime.js";
import { onShutdownSignal, stopGracefully } from "./shutdown.js";
import { createWaitingRoom } from "./waiting-room.js";

export const VERSION = "0.1.0";

/**
 * `anteroom serve`: the HTTP API, listening until SIGTERM/SIGINT, then a graceful stop. In embedded mode
 * it also rebuilds the hot index from the record and runs the worker loop in this process.
 */
export async function serve(config: Config): Promise<FastifyInstance> {
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger, { migrate: config.database.kind === "sqlite" });
  await bootstrapFirstAdmin(runtime);
  const room = await createWaitingRoom({
    store: runtime.store,
    clock: runtime.clock,
    keys: runtime.keys,
    logger,
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    issuer: config.publicUrl ?? "anteroom",
    metrics: new Metrics(500, { defaultMetrics: true }),
  });
  const started = Date.now();
  const loaded = await room.prepare();
  logger.info({ tickets: loaded, ms: Date.now() - started }, "hot index rebuilt from the record");
  const app = await buildApp({
    store: runtime.store,
    clock: runtime.clock,
    keys: runtime.keys,
    auth: runtime.auth,
    room,
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    logger,
    trustProxy: config.trustProxy,
    version: VERSION,
    readiness: [{ name: "record", check: () => runtime.store.ping() }],
  });
  await app.listen({ port: config.port, host: config.host });
  room.loop.start();
  logger.info(
    { url: `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`, docs: "/docs" },
    "anteroom is serving",
  );
  onShutdownSignal(logger, () =>
    stopGracefully(app, async () => {
      await room.close();
      await runtime.close();
    }),
  );
  return app;
}
