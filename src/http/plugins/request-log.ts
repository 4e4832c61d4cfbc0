import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../observability/metrics.js";

/**
 * One log line per request, with its id, echoed to the client as X-Request-Id, and the request-duration
 * histogram by route pattern. Fastify's built-in request logging is off: it writes two lines per request,
 * which the visitor hot path cannot afford.
 */
export function registerRequestLog(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    const hot = request.routeOptions.config?.hotPath === true;
    if (hot && reply.statusCode < 500) return;
    request.log.info(
      {
        method: request.method,
        url: request.url.split("?")[0],
        route: request.routeOptions.url,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request",
    );
  });
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Visitor routes (join, status, cancel): logged only when they fail with a 5xx. */
    hotPath?: boolean;
  }
}
