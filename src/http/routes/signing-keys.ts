import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { AdmissionKeys } from "../../domain/admission.js";
import type { ChangeEvents } from "../../domain/events.js";
import { errorResponses } from "../schemas.js";

/** Rotation of the admission-token signing key (admin). Old keys stay published until their tokens expire. */
export function signingKeyRoutes(admission: AdmissionKeys, events: ChangeEvents): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      "/signing-keys/rotate",
      {
        schema: {
          tags: ["admission"],
          security: [{ bearer: [] }],
          summary: "Start signing admission tokens with a new key",
          response: { 200: Type.Object({ kid: Type.String() }), ...errorResponses(401, 403) },
        },
      },
      async (request) => {
        request.scope.access.require("keys:rotate");
        const kid = await admission.rotate();
        events.keysChanged();
        return { kid };
      },
    );
  };
}
