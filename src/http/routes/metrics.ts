import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { errors } from "../../domain/errors.js";
import type { Metrics } from "../../observability/metrics.js";
import { errorBody } from "../plugins/errors.js";

export interface MetricsAccess {
  /** When set, scrapes must send `Authorization: Bearer <token>` (METRICS_TOKEN). */
  token?: string | undefined;
}

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Prometheus text exposition. Its queue labels are every tenant's queue ids and traffic, so it can be
 * closed with a bearer token, or served only on a private port (METRICS_PORT; workers use WORKER_PORT).
 */
export function metricsRoute(metrics: Metrics, access: MetricsAccess = {}): FastifyPluginAsync {
  const expected = access.token === undefined ? undefined : digest(`Bearer ${access.token}`);
  return async (app) => {
    app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (request, reply) => {
      if (expected !== undefined) {
        // Compared as digests: constant time whatever the length sent.
        const sent = digest(request.headers.authorization ?? "");
        if (!timingSafeEqual(sent, expected)) {
          // Answered here rather than thrown: the workers' small metrics server has no error handler.
          const refused = errors.unauthorized(
            "send the metrics token as Authorization: Bearer <METRICS_TOKEN>",
          );
          return reply
            .status(refused.status)
            .header("www-authenticate", 'Bearer realm="metrics"')
            .send(errorBody(refused, request.id));
        }
      }
      reply.header("content-type", metrics.contentType);
      return metrics.render();
    });
  };
}
