import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyError, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { Type } from "typebox";
import { errors } from "../../domain/errors.js";
import type { VisitorTicketRef } from "../../domain/visitor-token.js";
import type { KeyApplication } from "../../services/directory.js";
import type { VisitorService } from "../../services/visitors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { errorResponses, Uuid } from "../schemas.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The application of the request's API key (join, admission check), set before the body is read. */
    keyApplication: KeyApplication | undefined;
    /** The ticket of the request's visitor token (status, cancel), set before validation. */
    visitorRef: VisitorTicketRef | undefined;
  }
}

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

/** Either header carries the API key. */
export const apiKeySecurity: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { appApiKey: [] }];

/**
 * onRequest: resolves the API key to its application before the body is read, so a missing or unknown
 * key is a 401 whatever the body, then applies the route's per-application limit. An unknown key costs a
 * record read (unknown keys are not cached), so they are limited per client address: past the limit, a
 * key not in the cache is refused unread.
 */
export function authenticateApiKey(
  visitors: VisitorService,
  guard: RequestLimits,
  limit: (application: KeyApplication) => void,
) {
  const failures = guard.limits.keyFailures;
  return async (request: FastifyRequest): Promise<void> => {
    const apiKey = apiKeyOf(request);
    if (apiKey === undefined) throw errors.invalidApiKey();
    const address = guard.clientKey(request.raw);
    const application = await visitors.application(apiKey, () => {
      const wait = failures.check(address);
      if (wait > 0) throw guard.refuse("key_failures", wait);
    });
    if (application === null) {
      failures.take(address);
      throw errors.invalidApiKey();
    }
    limit(application);
    request.keyApplication = application;
  };
}

/** The request's application; authenticateApiKey ran before the handler. */
export function keyApplicationOf(request: FastifyRequest): KeyApplication {
  if (request.keyApplication === undefined) throw errors.invalidApiKey();
  return request.keyApplication;
}

function tokenInBody(body: unknown): unknown {
  return typeof body === "object" && body !== null ? (body as { token?: unknown }).token : undefined;
}

function refOf(request: FastifyRequest): VisitorTicketRef {
  if (request.visitorRef === undefined) throw errors.invalidToken();
  return request.visitorRef;
}

const tags = ["visitors"];
const config = { hotPath: true, cors: true };

export function visitorRoutes(visitors: VisitorService, guard: RequestLimits): FastifyPluginAsyncTypebox {
  const { limits } = guard;
  /** Verifies the token in the query string (in memory), before the query is validated. */
  const queryToken = (request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction): void => {
    const token = (request.query as { token?: unknown } | undefined)?.token;
    if (token === undefined && request.method === "POST") {
      done(); // cancel: the token may be in the body
      return;
    }
    try {
      request.visitorRef = visitors.verifyToken(token);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
  return async (app) => {
    app.decorateRequest("keyApplication", undefined);
    app.decorateRequest("visitorRef", undefined);

    app.post(
      "/join",
      {
        config,
        onRequest: authenticateApiKey(visitors, guard, (application) =>
          guard.take(limits.joins, "joins", application.id, limits.joinLimit(application.maxJoinsPerSecond)),
        ),
        schema: {
          tags,
          security: apiKeySecurity,
          summary: "Put a visitor in a queue (idempotent per visitor_id)",
          body: Type.Object({ queue_id: Uuid(), visitor_id: VisitorId }, { additionalProperties: false }),
          response: { 200: JoinResponse, ...errorResponses(400, 401, 404, 429, 503) },
        },
      },
      async (request) =>
        visitors.join(keyApplicationOf(request).id, request.body.queue_id, request.body.visitor_id),
    );

    app.get(
      "/queue_status",
      {
        config,
        // Also answered ahead of Fastify (http/fast-status.ts), with the same limit and checks.
        onRequest: [guard.byAddress(limits.status, "status"), queryToken],
        schema: {
          tags,
          summary:
            "A visitor's place, wait estimate and, once released, admission token (also the heartbeat)",
          querystring: TokenQuery,
          response: { 200: VisitorStatusSchema, ...errorResponses(401, 404, 429, 503) },
        },
      },
      async (request) => visitors.status(refOf(request)),
    );

    app.post(
      "/cancel",
      {
        config,
        onRequest: [guard.byAddress(limits.cancels, "cancels"), queryToken],
        // A token in the body is verified once the body is parsed, still before validation.
        preValidation: (request, _reply, done) => {
          if (request.visitorRef !== undefined) {
            done();
            return;
          }
          try {
            request.visitorRef = visitors.verifyToken(tokenInBody(request.body));
            done();
          } catch (error) {
            done(error as Error);
          }
        },
        // Without a token in the query, a body that cannot be read carries none either: a 401, not a 400.
        errorHandler: (error: FastifyError, request) => {
          if (request.visitorRef === undefined && error.code?.startsWith("FST_ERR_CTP_") === true) {
            throw errors.invalidToken();
          }
          throw error;
        },
        schema: {
          tags,
          summary: "Give up the place; visitors behind move up",
          description: "The token goes in the query string (seed) or in a JSON body `{token}`.",
          querystring: TokenQuery,
          response: { 200: VisitorStatusSchema, ...errorResponses(401, 404, 429, 503) },
        },
      },
      async (request) => visitors.cancel(refOf(request)),
    );
  };
}
