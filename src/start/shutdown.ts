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

/** Node's own link from a connection to the response it is writing (set while a request is in flight). */
type ServingSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Tracks an HTTP server's connections from the start, so that a shutdown closes them without cutting off a
 * request. Node's `server.close()` (and Fastify's) destroy every idle keep-alive connection at once, and
 * the 100 ms sweep of `stopGracefully` each one that becomes idle; a client that has just sent its next
 * request on such a connection gets no answer at all. Once the drain begins: every response closes its
 * connection (`Connection: close`, also those in flight whose headers are not sent yet), so clients stop
 * reusing connections, and an idle connection is closed only after it has been idle for `LINGER_MS` (a
 * request that arrives meanwhile is answered: Fastify's 503 while closing, with `Connection: close`).
 *
 * Until the drain begins it only keeps the set of open connections (one entry per connection, nothing per
 * request: status polls pay nothing for it); requests are watched from the drain on.
 */
export class ConnectionDrain {
  private readonly sockets = new Set<Socket>();
  /** While draining: connections without a request in flight, and since when. */
  private readonly idleSince = new Map<Socket, number>();
  private draining = false;

  constructor(private readonly server: Server) {
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => {
        this.sockets.delete(socket);
        this.idleSince.delete(socket);
      });
    });
  }

  /** From now on responses close their connections, and idle connections close only after lingering. */
  begin(): void {
    if (this.draining) return;
    this.draining = true;
    const now = Date.now();
    for (const socket of this.sockets) {
      const current = (socket as ServingSocket)._httpMessage;
      if (current === undefined || current === null) this.idleSince.set(socket, now);
      else this.watch(socket, current);
    }
    this.server.on("request", (request: IncomingMessage, response: ServerResponse) => {
      this.idleSince.delete(request.socket);
      this.watch(request.socket, response);
    });
    this.server.closeIdleConnections = () => this.closeIdle();
  }

  /** A response in flight while draining: it closes its connection, which is idle from its end on. */
  private watch(socket: Socket, response: ServerResponse): void {
    closeAfter(response);
    response.once("close", () => {
      if (!socket.destroyed && (socket as ServingSocket)._httpMessage == null) {
        this.idleSince.set(socket, Date.now());
      }
    });
  }

  private closeIdle(): void {
    const cutoff = Date.now() - LINGER_MS;
    for (const [socket, since] of this.idleSince) if (since <= cutoff) socket.destroy();
  }
}

function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.shouldKeepAlive = false;
}
