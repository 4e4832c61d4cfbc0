import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
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
 * rather than left open until the keep-alive timeout. With a ConnectionDrain (tracking the server's
 * connections since it started), no request a client has already sent is cut off: see ConnectionDrain.
 */
export async function stopGracefully(
  app: FastifyInstance,
  closeResources: () => Promise<void>,
  connections?: ConnectionDrain,
): Promise<void> {
  connections?.begin();
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
  await closeResources();
}

/** How long a connection that is idle when the drain begins may still bring a request before it is closed. */
const LINGER_MS = 1_000;

/**
 * Tracks an HTTP server's connections from the start, so that a shutdown closes them without cutting off a
 * request. Node's `server.close()` (and Fastify's) destroy every idle keep-alive connection at once, and
 * the 100 ms sweep of `stopGracefully` each one that becomes idle; a client that has just sent its next
 * request on such a connection gets no answer at all. Once the drain begins: every response closes its
 * connection (`Connection: close`, also those in flight whose headers are not sent yet), so clients stop
 * reusing connections, and an idle connection is closed only after it has been idle for `LINGER_MS` (a
 * request that arrives meanwhile is answered: Fastify's 503 while closing, with `Connection: close`).
 */
export class ConnectionDrain {
  /** Connections without a request in flight, and since when. */
  private readonly idleSince = new Map<Socket, number>();
  private readonly busy = new Map<Socket, number>();
  private readonly inFlight = new Set<ServerResponse>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on("connection", (socket: Socket) => {
      this.idleSince.set(socket, Date.now());
      socket.once("close", () => {
        this.idleSince.delete(socket);
        this.busy.delete(socket);
      });
    });
    server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      const socket = request.socket;
      this.idleSince.delete(socket);
      this.busy.set(socket, (this.busy.get(socket) ?? 0) + 1);
      this.inFlight.add(response);
      if (this.draining) closeAfter(response);
      response.once("close", () => {
        this.inFlight.delete(response);
        const left = (this.busy.get(socket) ?? 1) - 1;
        if (left > 0) {
          this.busy.set(socket, left);
          return;
        }
        this.busy.delete(socket);
        if (!socket.destroyed) this.idleSince.set(socket, Date.now());
      });
    });
  }

  /** From now on responses close their connections, and idle connections close only after lingering. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    for (const response of this.inFlight) closeAfter(response);
    this.server.closeIdleConnections = () => this.closeIdle();
  }

  private closeIdle(): void {
    const cutoff = Date.now() - LINGER_MS;
    for (const [socket, since] of this.idleSince) if (since <= cutoff) socket.destroy();
  }
}

function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.shouldKeepAlive = false;
}
