// The client side of `npm run bench -- --sse N`: one child process holding a share of the SSE visitors,
// each a raw TCP socket on loopback speaking just enough HTTP/1.1 (an EventSource object per connection
// would cost the load generator more than the server). Run as
//   node --import tsx bench/sse-clients.ts
// with an IPC channel. Messages in: {kind:"connect", port, visitors, concurrency} and {kind:"report"};
// each is answered with one message (see SseClientsReply).
import { connect, type Socket } from "node:net";

export type SseClientsRequest =
  | { kind: "connect"; port: number; visitors: { token: string; seq: number }[]; concurrency: number }
  | { kind: "report" };

export type SseClientsReply =
  | { kind: "connected"; ok: number; failed: number; ms: number; firstError: string | undefined }
  | {
      kind: "report";
      /** [seq, ms since the epoch] of each released event received. */
      released: [number, number][];
      open: number;
      events: number;
      keepalives: number;
      bytes: number;
      errors: number;
    };

const RELEASED = '"status":"released"';
const EVENT = "event: status";

let open = 0;
let events = 0;
let keepalives = 0;
let bytes = 0;
let errors = 0;
const released: [number, number][] = [];

/** Counts occurrences of `needle` in `text`. */
function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Opens one stream; resolves once its first status event has arrived (or it failed). */
function open1(port: number, token: string, seq: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let first = true;
    let tail = ""; // the end of the previous chunk, so a marker split across chunks is still seen
    const done = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      resolve(error);
    };
    const socket: Socket = connect({ port, host: "127.0.0.1", noDelay: true });
    socket.setEncoding("latin1");
    socket.on("connect", () => {
      socket.write(
        `GET /queue_events?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          // Each visitor from an address of its own, as behind a proxy (the server trusts loopback).
          `X-Forwarded-For: 10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}\r\n` +
          "Accept: text/event-stream\r\n\r\n",
      );
    });
    socket.on("data", (chunk: string) => {
      const now = Date.now();
      bytes += chunk.length;
      if (first) {
        first = false;
        if (!chunk.startsWith("HTTP/1.1 200")) {
          errors++;
          socket.destroy();
          done(chunk.split("\r\n")[0] ?? "bad response");
          return;
        }
        open++;
      }
      const text = tail + chunk;
      const seen = count(text, EVENT) - count(tail, EVENT);
      events += seen;
      keepalives += count(chunk, ": keepalive");
      if (text.includes(RELEASED) && !tail.includes(RELEASED)) released.push([seq, now]);
      tail = text.slice(-64);
      if (seen > 0) done(undefined);
    });
    socket.on("error", (error) => {
      errors++;
      done(error.message);
    });
    socket.on("close", () => {
      if (!first) open--;
      done("closed before the first event");
    });
  });
}

async function connectAll(
  port: number,
  visitors: { token: string; seq: number }[],
  concurrency: number,
): Promise<SseClientsReply> {
  const started = Date.now();
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const lane = async () => {
    while (next < visitors.length) {
      const visitor = visitors[next++];
      if (visitor === undefined) break;
      const error = await open1(port, visitor.token, visitor.seq);
      if (error === undefined) ok++;
      else {
        failed++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, visitors.length) }, lane));
  return { kind: "connected", ok, failed, ms: Date.now() - started, firstError };
}

process.on("message", (message: SseClientsRequest) => {
  if (message.kind === "connect") {
    void connectAll(message.port, message.visitors, message.concurrency).then((reply) =>
      process.send?.(reply),
    );
  } else {
    process.send?.({
      kind: "report",
      released,
      open,
      events,
      keepalives,
      bytes,
      errors,
    } satisfies SseClientsReply);
  }
});
