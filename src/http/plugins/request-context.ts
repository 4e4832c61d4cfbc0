import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../observability/metrics.js";
import { VISITOR_CORS_HEADERS } from "./cors.js";

/**
 * Per-request plumbing in two cheap callback hooks (the visitor hot path runs them tens of thousands of
 * times a second): X-Request-Id on every response, CORS headers on visitor routes, the request-duration
 * histogram by route pattern, and one log line per request. Visitor routes are logged only when they fail
 * with a 5xx. Requests share the root logger (no per-request child), so lines carry `reqId` explicitly.
 */
export function registerRequestContext(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    if (request.routeOptions.config?.cors === true) {
      for (let i = 0; i < VISITOR_CORS_HEADERS.length; i += 2) {
        reply.header(VISITOR_CORS_HEADERS[i] ?? "", VISITOR_CORS_HEADERS[i + 1]);
      }
    }
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpDuration.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (request.routeOptions.config?.hotPath !== true || reply.statusCode >= 500) {
      request.log.info(
        {
          reqId: request.id,
          method: request.method,
          url: request.url.split("?")[0],
          route,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        "request",
      );
    }
    done();
  });
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Visitor routes (join, status, cancel): logged only when they fail with a 5xx. */
    hotPath?: boolean;
    /** Visitor routes callable from any origin. */
    cors?: boolean;
  }
}
