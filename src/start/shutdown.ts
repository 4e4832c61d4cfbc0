import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

const GRACE_MS = 15_000;

/**
 * On SIGTERM or SIGINT: stop accepting connections, let in-flight requests finish, close resources, exit.
 * If that takes longer than the grace period the process exits anyway, so an orchestrator is never stuck.
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    const force = setTimeout(() => {
      logger.error({ graceMs: GRACE_MS }, "shutdown took too long; exiting");
      process.exit(1);
    }, GRACE_MS);
    force.unref();
    stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", handler);
  process.once("SIGINT", handler);
}

/**
 * Stops accepting connections, waits for in-flight requests to be answered, then closes resources.
 * Connections busy when closing began become idle as their responses finish; those are closed too,
 * rather than left open until the keep-alive timeout.
 */
export async function stopGracefully(
  app: FastifyInstance,
  closeResources: () => Promise<void>,
): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
  await closeResources();
}
