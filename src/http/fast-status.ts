import type { IncomingMessage, ServerResponse } from "node:http";
import fastJson from "fast-json-stringify";
import type { Logger } from "pino";
import { errors } from "../domain/errors.js";
import type { RateLimiter } from "../domain/rate-limiter.js";
import type { VisitorStatus } from "../domain/visitor-status.js";
import type { Metrics } from "../observability/metrics.js";
import type { VisitorService } from "../services/visitors.js";
import { VISITOR_CORS_HEADERS } from "./plugins/cors.js";
import { errorBody, localizeError, toAppError } from "./plugins/errors.js";
import { requestIdOf } from "./request-id.js";
import { VisitorStatusSchema } from "./routes/visitor.js";

/**
 * `GET /queue_status`, answered before Fastify sees the request. This is the one route every waiting
 * visitor calls every few seconds, and on it Fastify's per-request machinery (request and reply objects,
 * routing, hooks, validation, serializer dispatch) costs as much as the poll itself. The route is still
 * registered in Fastify (OpenAPI, `app.inject`), and both paths call the same VisitorService and the same
 * serializer, and count the same per-address limit, so they answer alike; tests check that over a real
 * socket. Per poll the limit costs a client key (kept on the connection) and one Map lookup.
 */
const PATH = "/queue_status";
/** The API's rate_limited body around its request id, made once: a flood is refused often, and cheaply. */
const LIMITED_MESSAGE = errors.rateLimited(1).message;
const [LIMITED_HEAD, LIMITED_TAIL] = JSON.stringify(errorBody(errors.rateLimited(1), "\u0001")).split(
  JSON.stringify("\u0001"),
);

export interface FastStatusDeps {
  visitors: VisitorService;
  metrics: Metrics;
  logger: Logger | undefined;
  /** Status polls per client address (the same limiter the routed handler uses). */
  limiter: RateLimiter;
  clientKey(req: IncomingMessage): string;
  refusals: { inc(): void };
}

/** The `token` query parameter, decoded, or undefined. */
function tokenOf(url: string, query: number): string | undefined {
  if (query < 0) return undefined;
  const params = url.slice(query + 1);
  if (params.startsWith("token=") && !params.includes("&")) {
    const raw = params.slice(6);
    if (!raw.includes("%")) return raw;
    try {
      return decodeURIComponent(raw);
    } catch {
      return undefined; // malformed escapes: no token (a 401), not a server error
    }
  }
  return new URLSearchParams(params).get("token") ?? undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  requestId: string,
  retryAfter: number | undefined,
): void {
  const headers = [
    "x-request-id",
    requestId,
    ...VISITOR_CORS_HEADERS,
    "content-type",
    "application/json; charset=utf-8",
    // What security-headers.ts sets on every other response.
    "x-content-type-options",
    "nosniff",
    "referrer-policy",
    "no-referrer",
    "content-length",
    String(Buffer.byteLength(body)),
  ];
  if (retryAfter !== undefined) headers.push("retry-after", String(retryAfter));
  res.writeHead(status, headers);
  res.end(body);
}

/** Returns true when it took the request; false leaves it to Fastify. */
export function fastStatusHandler(
  deps: FastStatusDeps,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const serialize = fastJson(VisitorStatusSchema as object);
  const observe = (status: number, started: bigint) =>
    deps.metrics.httpDuration.observe("GET", PATH, status, Number(process.hrtime.bigint() - started) / 1e9);
  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    error: unknown,
    requestId: string,
    started: bigint,
  ) => {
    if (res.headersSent) {
      // Failed while writing the answer itself: nothing sensible can follow on this connection.
      deps.logger?.error({ err: error, reqId: requestId }, "status poll failed mid-response");
      res.destroy();
      return;
    }
    const appError = localizeError(
      toAppError(error instanceof Error ? error : new Error(String(error))),
      req.headers["accept-language"],
    );
    if (appError.status >= 500) deps.logger?.error({ err: error, reqId: requestId }, "status poll failed");
    send(
      res,
      appError.status,
      JSON.stringify(errorBody(appError, requestId)),
      requestId,
      appError.extra.retryAfterSeconds,
    );
    observe(appError.status, started);
  };
  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    retryAfter: number,
    requestId: string,
    started: bigint,
  ) => {
    deps.refusals.inc();
    const localized = localizeError(errors.rateLimited(retryAfter), req.headers["accept-language"]);
    const body =
      localized.message === LIMITED_MESSAGE
        ? `${LIMITED_HEAD}${JSON.stringify(requestId)}${LIMITED_TAIL}`
        : JSON.stringify(errorBody(localized, requestId));
    send(res, 429, body, requestId, retryAfter);
    observe(429, started);
  };
  const succeed = (res: ServerResponse, status: VisitorStatus, requestId: string, started: bigint) => {
    send(res, 200, serialize(status), requestId, undefined);
    observe(200, started);
  };

  return (req, res) => {
    const url = req.url ?? "";
    if (req.method !== "GET" || !url.startsWith(PATH)) return false;
    const query = url.indexOf("?");
    const end = query < 0 ? url.length : query;
    if (end !== PATH.length && !((end === PATH.length + 1 && url.charCodeAt(PATH.length) === 47) /* / */)) {
      return false;
    }
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers["x-request-id"]);
    const wait = deps.limiter.take(deps.clientKey(req));
    if (wait > 0) {
      refuse(req, res, wait, requestId, started);
      return true;
    }
    const token = tokenOf(url, query);
    try {
      const answer = deps.visitors.statusFast(token);
      if (answer instanceof Promise) {
        answer
          .then((status) => succeed(res, status, requestId, started))
          .catch((error: unknown) => fail(req, res, error, requestId, started));
      } else {
        succeed(res, answer, requestId, started);
      }
    } catch (error) {
      fail(req, res, error, requestId, started);
    }
    return true;
  };
}
