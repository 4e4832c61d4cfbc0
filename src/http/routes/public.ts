import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { errors } from "../../domain/errors.js";
import type { VisitorService } from "../../services/visitors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { errorResponses, IdParams } from "../schemas.js";

const PublicApplication = Type.Object({
  id: Type.String(),
  publishable_key: Type.String({
    description: "what a page joins with (X-API-Key), from the application's origins",
  }),
});

/**
 * What anyone may know of an application: its publishable key, for pages (and the embed script) that are
 * given only the application's id. No credentials; any origin may read it, and caches may keep it a minute.
 */
export function publicRoutes(visitors: VisitorService, guard: RequestLimits): FastifyPluginAsyncTypebox {
  const failures = guard.limits.keyFailures;
  return async (app) => {
    app.get(
      "/public/applications/:id",
      {
        config: { cors: true },
        schema: {
          tags: ["visitors"],
          summary: "An application's publishable key (no credentials)",
          description:
            "Cacheable for 60 s (so a rotated key reaches pages that use this within a minute). Lookups of unknown applications count against the per-address limit on unknown API keys.",
          params: IdParams,
          response: { 200: PublicApplication, ...errorResponses(400, 404, 429) },
        },
      },
      async (request, reply) => {
        const address = guard.clientKey(request.raw);
        // Known applications come from a cache; an unknown id costs a record read each time, so it is
        // limited per address like an unknown API key: past the limit, an id not cached is refused unread.
        const application = await visitors.publicApplication(request.params.id, () => {
          const wait = failures.check(address);
          if (wait > 0) throw guard.refuse("key_failures", wait);
        });
        if (application === null) {
          failures.take(address);
          throw errors.notFound("application");
        }
        reply.header("cache-control", "public, max-age=60");
        return application;
      },
    );
  };
}
