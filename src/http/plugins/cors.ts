import type { FastifyInstance } from "fastify";

/**
 * Cross-origin access for the visitor routes: a site's pages poll the waiting room from the site's own
 * origin. No cookies are involved (the token travels in the URL), so any origin may call them.
 */
const ALLOW_HEADERS = "content-type, x-api-key, app_api_key, x-request-id";

export function registerVisitorCors(app: FastifyInstance, paths: readonly string[]): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.config?.cors !== true) return;
    reply.header("access-control-allow-origin", "*");
    reply.header("access-control-expose-headers", "x-request-id, retry-after");
  });
  for (const path of paths) {
    app.options(path, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .status(204)
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", "GET, POST, OPTIONS")
        .header("access-control-allow-headers", ALLOW_HEADERS)
        .header("access-control-max-age", "86400")
        .send(),
    );
  }
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Visitor routes callable from any origin. */
    cors?: boolean;
  }
}
