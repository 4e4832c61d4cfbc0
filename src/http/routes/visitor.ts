import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { VisitorService } from "../../visitor/visitor-service.js";
import { errorResponses, Uuid } from "../schemas.js";

// Plain `type: [...]` and `enum` rather than anyOf: the response serializer picks an anyOf branch by
// validating each value, which the hot path cannot afford.
const NullableInteger = (description?: string) =>
  Type.Unsafe<number | null>({
    type: ["integer", "null"],
    ...(description === undefined ? {} : { description }),
  });

export const VisitorStatusSchema = Type.Object({
  status: Type.Unsafe<"waiting" | "released" | "expired" | "cancelled">({
    type: "string",
    enum: ["waiting", "released", "expired", "cancelled"],
  }),
  position: NullableInteger("1 + visitors still waiting ahead; null once not waiting"),
  users_ahead: NullableInteger(),
  estimated_wait_seconds: NullableInteger("from the measured release rate"),
  queue_size: Type.Integer({ description: "visitors waiting in the queue now" }),
  poll_after_seconds: NullableInteger("poll again after this long; null: stop polling"),
  access_token: Type.Optional(Type.String({ description: "admission JWT, when released" })),
  redirect_url: Type.Optional(Type.String({ description: "where to send the visitor, when released" })),
});

const JoinResponse = Type.Object({
  token: Type.String({ description: "the visitor's token for queue_status and cancel" }),
  ...VisitorStatusSchema.properties,
});

const VisitorId = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: "^[^\\u0000-\\u001f\\u007f]+$",
  description:
    "the site's id for this visitor (a session id, say); joining again with it returns the same place",
});

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) });

/** The API key from `app_api_key` (seed) or `X-API-Key` (proxies such as nginx drop underscored headers). */
export function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers["x-api-key"] ?? request.headers.app_api_key;
  return typeof header === "string" && header.length > 0 ? header : undefined;
}

function tokenInBody(body: unknown): unknown {
  return typeof body === "object" && body !== null ? (body as { token?: unknown }).token : undefined;
}

const tags = ["visitors"];
const config = { hotPath: true, cors: true };

export function visitorRoutes(visitors: VisitorService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      "/join",
      {
        config,
        schema: {
          tags,
          security: [{ apiKey: [] }],
          summary: "Put a visitor in a queue (idempotent per visitor_id)",
          body: Type.Object({ queue_id: Uuid(), visitor_id: VisitorId }, { additionalProperties: false }),
          response: { 200: JoinResponse, ...errorResponses(400, 401, 404, 503) },
        },
      },
      async (request) => visitors.join(apiKeyOf(request), request.body.queue_id, request.body.visitor_id),
    );

    app.get(
      "/queue_status",
      {
        config,
        schema: {
          tags,
          summary:
            "A visitor's place, wait estimate and, once released, admission token (also the heartbeat)",
          querystring: TokenQuery,
          response: { 200: VisitorStatusSchema, ...errorResponses(401, 404) },
        },
      },
      async (request) => visitors.status((request.query as { token?: unknown } | undefined)?.token),
    );

    app.post(
      "/cancel",
      {
        config,
        schema: {
          tags,
          summary: "Give up the place; visitors behind move up",
          description: "The token goes in the query string (seed) or in a JSON body `{token}`.",
          querystring: TokenQuery,
          response: { 200: VisitorStatusSchema, ...errorResponses(401, 404) },
        },
      },
      async (request) => visitors.cancel(request.query.token ?? tokenInBody(request.body)),
    );
  };
}
