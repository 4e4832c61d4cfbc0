import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { AdmissionKeys } from "../../services/admission-keys.js";
import type { VisitorService } from "../../services/visitors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { errorResponses } from "../schemas.js";
import { apiKeySecurity, authenticateApiKey, keyApplicationOf } from "./visitor.js";

const Jwks = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) });

/** Public keys for offline verification, and the site's online check (which also marks the visitor seen). */
export function admissionRoutes(
  visitors: VisitorService,
  admission: AdmissionKeys,
  guard: RequestLimits,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.decorateRequest("keyApplication", undefined);

    app.get(
      "/.well-known/jwks.json",
      {
        schema: {
          tags: ["admission"],
          summary: "Public keys (JWKS) that verify admission tokens",
          response: { 200: Jwks },
        },
      },
      async (_request, reply) => {
        reply.header("cache-control", "public, max-age=300");
        return admission.jwks();
      },
    );

    app.post(
      "/admissions/check",
      {
        // The key is resolved before the body is read: without a valid one, the answer is 401.
        onRequest: authenticateApiKey(visitors, guard, (application) =>
          guard.take(guard.limits.admissionChecks, "admission_checks", application.id),
        ),
        schema: {
          tags: ["admission"],
          security: apiKeySecurity,
          summary:
            "Verify an admission token for your application; counts as the visitor arriving at the site",
          body: Type.Object(
            { access_token: Type.String({ minLength: 1, maxLength: 4096 }) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              valid: Type.Literal(true),
              queue_id: Type.String(),
              visitor_id: Type.String(),
              expires_at: Type.String({ format: "date-time" }),
              first_seen: Type.Boolean({
                description: "true the first time the visitor is seen after release",
              }),
            }),
            ...errorResponses(400, 401, 429),
          },
        },
      },
      async (request) => visitors.checkAdmission(keyApplicationOf(request).id, request.body.access_token),
    );
  };
}
