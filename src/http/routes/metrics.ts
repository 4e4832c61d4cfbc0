import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../observability/metrics.js";

/** Prometheus text exposition. */
export function metricsRoute(metrics: Metrics): FastifyPluginAsync {
  return async (app) => {
    app.get("/metrics", { schema: { tags: ["operations"], hide: true } }, async (_request, reply) => {
      reply.header("content-type", metrics.contentType);
      return metrics.render();
    });
  };
}
