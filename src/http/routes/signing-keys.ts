import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ChangeEvents } from "../../domain/events.js";
import type { AdmissionKeys } from "../../services/admission-keys.js";
import { errorResponses } from "../schemas.js";

/**
 * Rotation of the admission-token signing key (admin). Previous keys stay published until their tokens
 * expire, unless revoked.
 */
export function signingKeyRoutes(admission: AdmissionKeys, events: ChangeEvents): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      "/signing-keys/rotate",
      {
        schema: {
          tags: ["admission"],
          security: [{ bearer: [] }],
          summary: "Start signing admission tokens with a new key",
          description:
            'Optional JSON body `{"revoke_previous": true}` also stops publishing the previous keys at once ' +
            "(for a compromised key): tokens they signed stop verifying.",
          response: { 200: Type.Object({ kid: Type.String() }), ...errorResponses(401, 403) },
        },
      },
      async (request) => {
        request.scope.access.require("keys:rotate");
        const body = request.body as { revoke_previous?: unknown } | undefined;
        const kid = await admission.rotate({ revoke: body?.revoke_previous === true });
        events.keysChanged();
        return { kid };
      },
    );
  };
}
