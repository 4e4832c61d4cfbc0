import type { IncomingMessage, ServerResponse } from "node:http";
import fastJson from "fast-json-stringify";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";
import type { VisitorService } from "../visitor/visitor-service.js";
import { errorBody, toAppError } from "./plugins/errors.js";
import { VisitorStatusSchema } from "./routes/visitor.js";

/**
 * `GET /queue_status`, answered before Fastify sees the request. This is the one route every waiting
 * visitor calls every few seconds, and on it Fastify's per-request machinery (request and reply objects,
 * routing, hooks, validation, serializer dispatch) costs as much as the poll itself. The route is still
 * registered in Fastify (OpenAPI, `app.inject`), and both paths call the same VisitorService.status and
 * the same serializer, so they answer alike; tests check that over a real socket.
 */
const PATH = "/queue_status";
const REQUEST_ID = /^[\w.:-]{1,64}$/;

export interface FastStatusDeps {
  visitors: VisitorService;
  metrics: Metrics;
  logger: Logger | undefined;
  nextRequestId(): string;
}

/** Returns true when it took the request; false leaves it to Fastify. */
export function fastStatusHandler(
  deps: FastStatusDeps,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const serialize = fastJson(VisitorStatusSchema as object);
  return (req, res) => {
    const url = req.url ?? "";
    if (req.method !== "GET" || !url.startsWith(PATH)) return false;
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    if (path !== PATH && path !== `${PATH}/`) return false;
    const started = process.hrtime.bigint();
    const incoming = req.headers["x-request-id"];
    const requestId =
      typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : deps.nextRequestId();
    const token =
      query < 0 ? undefined : (new URLSearchParams(url.slice(query + 1)).get("token") ?? undefined);
    const finish = (status: number, body: string, extra?: Record<string, string>) => {
      res.writeHead(status, {
        "x-request-id": requestId,
        "access-control-allow-origin": "*",
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        ...extra,
      });
      res.end(body);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpDuration.observe("GET", PATH, status, seconds);
    };
    deps.visitors.status(token).then(
      (status) => finish(200, serialize(status)),
      (error: unknown) => {
        const appError = toAppError(error instanceof Error ? error : new Error(String(error)));
        if (appError.status >= 500)
          deps.logger?.error({ err: error, reqId: requestId }, "status poll failed");
        const retry = appError.extra.retryAfterSeconds;
        finish(
          appError.status,
          JSON.stringify(errorBody(appError, requestId)),
          retry === undefined ? undefined : { "retry-after": String(retry) },
        );
      },
    );
    return true;
  };
}
