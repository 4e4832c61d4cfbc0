import type { FastifyInstance } from "fastify";

/**
 * Preflight answers for the visitor routes: a site's pages call the waiting room from the site's own
 * origin (joining with the publishable key and their device secret in X-Anteroom-Device). No cookies are
 * involved (the token travels in the URL), so any origin may call them; which origins may use a
 * publishable key is the join's own check. The headers of the actual responses are VISITOR_CORS_HEADERS.
 */
const ALLOW_HEADERS = "content-type, x-api-key, app_api_key, x-request-id, x-anteroom-device";
/**
 * The CORS headers of every visitor-route response (name, value, ...): any origin may call, and read
 * Retry-After (of a 429 or 503, not safelisted) and X-Request-Id. Set by request-context.ts and fast-status.ts.
 */
export const VISITOR_CORS_HEADERS: readonly string[] = [
  "access-control-allow-origin",
  "*",
  "access-control-expose-headers",
  "retry-after, x-request-id",
];

export function registerVisitorCors(app: FastifyInstance, paths: readonly string[]): void {
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
