import type { FastifyInstance } from "fastify";

/**
 * One log line per request, with its id, echoed to the client as X-Request-Id. Fastify's built-in request
 * logging is off: it writes two lines per request, which the visitor hot path cannot afford.
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
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
