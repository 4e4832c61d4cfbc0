import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A real HTTP server on loopback standing in for a site's callback endpoint. `answer` decides the status
 * of each request (by its 1-based number).
 */
export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  answer: (n: number) => number = () => 200;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => {
        body += chunk;
      });
      request.on("end", () => {
        this.received.push({ headers: request.headers, body });
        response.statusCode = this.answer(this.received.length);
        response.end("ok");
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("receiver not listening");
    return `http://127.0.0.1:${address.port}/callback`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * A callback endpoint that accepts every request and never answers (a site whose handler hangs). Counts
 * the connections open at once, and the most ever open, so a test can bound the concurrency it was sent.
 */
export class HangingReceiver {
  requests = 0;
  open = 0;
  maxOpen = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer(() => {
      this.requests++;
    });
    this.server.on("connection", (socket) => {
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      socket.on("close", () => {
        this.open--;
      });
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("receiver not listening");
    return `http://127.0.0.1:${address.port}/callback`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
