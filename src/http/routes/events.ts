import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import fastJson from "fast-json-stringify";
import type { FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { Type } from "typebox";
import type { VisitorStatus } from "../../domain/visitor-status.js";
import type { EventSink, QueueEventsHub } from "../../services/queue-events.js";
import type { VisitorService } from "../../services/visitors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { errorResponses } from "../schemas.js";
import { VisitorStatusSchema } from "./visitor.js";

/** How long a browser waits before reconnecting a dropped stream. */
export const RETRY_MS = 3_000;

/**
 * Open streams one place may hold (tabs of one browser), and one client address (a household, an office
 * or a mobile carrier's shared address); the process as a whole holds at most the hub's `maxStreams`.
 * Past any of them, a new stream is a 429 and the browser polls `/queue_status` instead: neither one
 * token, one address nor many addresses can take the sockets the process needs for everything else.
 */
export const MAX_STREAMS_PER_PLACE = 8;
export const MAX_STREAMS_PER_ADDRESS = 200;
/** What a refused stream's Retry-After says: polling carries on meanwhile. */
const STREAMS_RETRY_SECONDS = 30;

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) });

const DESCRIPTION = [
  "Server-Sent Events (`text/event-stream`): `retry: 3000`, then at once an `event: status` whose `data` is",
  "the body `GET /queue_status` answers (with an `id:`), then another whenever it changes: a release or",
  "another end at once (the stream then closes), a new place or estimate at most every 2 s. A `: keepalive`",
  "comment every 15 s. Ids keep increasing, across reconnects too (`Last-Event-ID`; a reconnect gets the",
  "current status at once). While connected the visitor counts as polling (heartbeat). When the server",
  "stops it sends `retry: 1000` and closes: reconnect. Use `new EventSource(url)` and listen to `status`;",
  "close it on a status other than `waiting`. A bad token is a 401 JSON error, not a stream.",
].join(" ");

/** The client's Last-Event-ID, when it is one of ours (a decimal integer); else undefined. */
function lastEventIdOf(request: FastifyRequest): number | undefined {
  const header = request.headers["last-event-id"];
  if (typeof header !== "string" || !/^\d{1,15}$/.test(header)) return undefined;
  return Number(header);
}

/** Writes events to one response as Server-Sent Events. */
class SseSink implements EventSink {
  private head = `retry: ${RETRY_MS}\n`;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly serialize: (status: VisitorStatus) => string,
  ) {}

  private write(text: string): void {
    if (this.ended || this.res.destroyed) return;
    this.res.write(text);
  }

  status(id: number, status: VisitorStatus): void {
    this.write(`${this.head}id: ${id}\nevent: status\ndata: ${this.serialize(status)}\n\n`);
    this.head = "";
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  backlog(): number {
    return this.res.writableLength;
  }

  end(retryMs?: number): void {
    if (this.ended) return;
    if (retryMs !== undefined) this.write(`retry: ${retryMs}\n\n`);
    this.ended = true;
    if (this.res.destroyed) return;
    // The response is over, and so is the connection: EventSource never reuses it, and a visitor who was
    // released or shut out should not hold a server socket until the keep-alive timeout.
    const socket = this.res.socket; // detached from the response once it has finished
    this.res.end(() => socket?.end());
  }
}

/**
 * `GET /queue_events`: a visitor's live updates. Credentials first (the token's MAC, in memory, and the
 * status-poll limit per client address), then the current status (one poll), then the stream is handed to
 * the process's live-updates hub (services/queue-events.ts), which sends the changes.
 */
export function eventRoutes(
  visitors: VisitorService,
  hub: QueueEventsHub,
  guard: RequestLimits,
): FastifyPluginAsyncTypebox {
  const serialize = fastJson(VisitorStatusSchema as object);
  const verify = (request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction): void => {
    try {
      visitors.verifyToken((request.query as { token?: unknown } | undefined)?.token);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
  /** Open streams per client address. */
  const perAddress = new Map<string, number>();
  return async (app) => {
    // Streams never finish by themselves: end them (with a reconnect hint) before the server waits for them.
    app.addHook("preClose", (done) => {
      hub.close();
      done();
    });

    app.get(
      "/queue_events",
      {
        config: { hotPath: true, cors: true },
        onRequest: [guard.byAddress(guard.limits.status, "status"), verify],
        schema: {
          tags: ["visitors"],
          summary: "A visitor's status as live updates (Server-Sent Events)",
          description: DESCRIPTION,
          querystring: TokenQuery,
          headers: Type.Object({
            "last-event-id": Type.Optional(
              Type.String({ maxLength: 64, description: "sent by EventSource on reconnect" }),
            ),
          }),
          produces: ["text/event-stream"],
          response: {
            200: {
              description: "an event stream; each `status` event's data is a VisitorStatus",
              content: { "text/event-stream": { schema: Type.String() } },
            },
            ...errorResponses(401, 404, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const ref = visitors.verifyToken(request.query.token);
        const address = guard.clientKey(request.raw);
        const open = perAddress.get(address) ?? 0;
        if (hub.full || open >= MAX_STREAMS_PER_ADDRESS || hub.streamsOf(ref) >= MAX_STREAMS_PER_PLACE) {
          throw guard.refuse("streams", STREAMS_RETRY_SECONDS);
        }
        // Counted from here, so concurrent requests of one address cannot all pass the check.
        perAddress.set(address, open + 1);
        const done = () => {
          const left = (perAddress.get(address) ?? 1) - 1;
          if (left > 0) perAddress.set(address, left);
          else perAddress.delete(address);
        };
        let status: VisitorStatus;
        try {
          status = await visitors.status(ref);
        } catch (error) {
          done();
          throw error;
        }
        reply.hijack();
        const res = reply.raw;
        // What the hooks set (X-Request-Id, CORS), then the stream's own.
        const headers: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) headers[name] = value;
        }
        headers["content-type"] = "text/event-stream; charset=utf-8";
        headers["cache-control"] = "no-store";
        headers["x-accel-buffering"] = "no";
        res.writeHead(200, headers);
        const subscription = hub.subscribe(ref, status, new SseSink(res, serialize), lastEventIdOf(request));
        if (subscription === undefined) {
          done();
          return;
        }
        res.once("close", () => {
          subscription.close();
          done();
        });
      },
    );
  };
}
