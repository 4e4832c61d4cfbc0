import type { FastifyInstance } from "fastify";
import { buildApp } from "../app.js";
import type { Config } from "../config.js";
import { createLogger } from "../observability/logger.js";
import { bootstrapFirstAdmin } from "./first-admin.js";
import { openRuntime } from "./runtime.js";
import { onShutdownSignal, stopGracefully } from "./shutdown.js";

export const VERSION = "0.1.0";

/** `anteroom serve`: the HTTP API, listening until SIGTERM/SIGINT, then a graceful stop. */
export async function serve(config: Config): Promise<FastifyInstance> {
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, logger, { migrate: config.database.kind === "sqlite" });
  await bootstrapFirstAdmin(runtime);
  const app = await buildApp({
    store: runtime.store,
    clock: runtime.clock,
    keys: runtime.keys,
    auth: runtime.auth,
    allowPrivateCallbacks: config.allowPrivateCallbacks,
    logger,
    trustProxy: config.trustProxy,
    version: VERSION,
    readiness: [{ name: "record", check: () => runtime.store.ping() }],
  });
  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { url: `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${config.port}`, docs: "/docs" },
    "anteroom is serving",
  );
  onShutdownSignal(logger, () => stopGracefully(app, () => runtime.close()));
  return app;
}
