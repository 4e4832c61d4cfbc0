import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyError, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import { Type } from "typebox";
import { errors } from "../../domain/errors.js";
import { isApplicationUrl } from "../../domain/origins.js";
import type { VisitorTicketRef } from "../../domain/visitor-token.js";
import { isPublishableKey, type KeyApplication } from "../../services/directory.js";
import type { JoinOptions, VisitorService } from "../../services/visitors.js";
import type { RequestLimits } from "../plugins/rate-limit.js";
import { errorResponses, NullableInteger, Uuid } from "../schemas.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The application of the request's API key (join, admission check), set before the body is read. */
    keyApplication: KeyApplication | undefined;
    /** The ticket of the request's visitor token (status, cancel), set before validation. */
    visitorRef: VisitorTicketRef | undefined;
  }
}

// Plain `type: [...]` (NullableInteger) and `enum` rather than anyOf: the response serializer picks an
// anyOf branch by validating each value, which the hot path cannot afford.

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

const JoinBody = Type.Object(
  {
    queue_id: Uuid(),
    visitor_id: VisitorId,
    return_to: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description:
          "where to send the visitor when released: an absolute https URL on the application's domain (or a subdomain under origin_policy subdomains); the admission token is added to it",
      }),
    ),
  },
  { additionalProperties: false },
);

const JOIN_DESCRIPTION = [
  "With the secret API key (`ak_...`) from the site's server, or with the publishable key (`pk_...`) from a",
  "page: then the browser's `Origin` must be the application's domain (https; a subdomain under",
  "`origin_policy: subdomains`) and `X-Anteroom-Device` must carry the browser's device secret. A visitor",
  "already in line from another browser is a 409. The secret key is refused on any request with an",
  "`Origin` header (a browser's).",
].join(" ");

/** The browser's device secret: made once per browser by the embed script and kept in localStorage. */
const DEVICE_SECRET = /^[A-Za-z0-9_-]{22,128}$/;

function deviceOf(request: FastifyRequest): string | undefined {
  const device = request.headers["x-anteroom-device"];
  return typeof device === "string" && DEVICE_SECRET.test(device) ? device : undefined;
}

/** The API key from `app_api_key` (seed) or `X-API-Key` (proxies such as nginx drop underscored headers). */
export function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers["x-api-key"] ?? request.headers.app_api_key;
  return typeof header === "string" && header.length > 0 ? header : undefined;
}

/** Either header carries the API key. */
export const apiKeySecurity: { [scheme: string]: string[] }[] = [{ apiKey: [] }, { appApiKey: [] }];

/**
 * A page's join (publishable key): only from the application's own origins, with the browser's device
 * secret, and limited per client address, since the key is public and anyone may script it.
 */
function checkPage(
  request: FastifyRequest,
  application: KeyApplication,
  guard: RequestLimits,
  address: string,
) {
  const origin = request.headers.origin;
  if (origin === undefined || !isApplicationUrl(origin, application.domain, application.originPolicy)) {
    throw errors.originNotAllowed();
  }
  if (deviceOf(request) === undefined) throw errors.deviceRequired();
  guard.take(guard.limits.pageJoins, "page_joins", address);
}

/**
 * onRequest: resolves the API key to its application before the body is read, so a missing or unknown
 * key is a 401 whatever the body, then applies the route's per-application limit. An unknown key costs a
 * record read (unknown keys are not cached), so they are limited per client address: past the limit, a
 * key not in the cache is refused unread. The publishable key is taken only where `publishable` says
 * (joins), and then under checkPage's rules; the secret key is refused from browsers.
 */
export function authenticateApiKey(
  visitors: VisitorService,
  guard: RequestLimits,
  limit: (application: KeyApplication) => void,
  { publishable = false }: { publishable?: boolean } = {},
) {
  const failures = guard.limits.keyFailures;
  return async (request: FastifyRequest): Promise<void> => {
    const apiKey = apiKeyOf(request);
    if (apiKey === undefined) throw errors.invalidApiKey();
    const fromPage = isPublishableKey(apiKey);
    if (fromPage && !publishable) {
      throw errors.invalidApiKey("the publishable key only joins queues; use the secret API key here");
    }
    // Browsers send Origin with every cross-origin request and every POST; servers do not. A secret key
    // there is readable by anyone who opens the page: refuse it before it is even looked up.
    if (!fromPage && request.headers.origin !== undefined) throw errors.secretKeyInBrowser();
    const address = guard.clientKey(request.raw);
    const application = await visitors.application(apiKey, () => {
      const wait = failures.check(address);
      if (wait > 0) throw guard.refuse("key_failures", wait);
    });
    if (application === null) {
      failures.take(address);
      throw errors.invalidApiKey();
    }
    if (application.publishable) checkPage(request, application, guard, address);
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
        onRequest: authenticateApiKey(
          visitors,
          guard,
          (application) =>
            guard.take(
              limits.joins,
              "joins",
              // Joins from pages (the public key, which anyone may script) have a budget of their own, so
              // a flood of them never takes the joins of the site's own server.
              application.publishable ? `${application.id}:page` : application.id,
              limits.joinLimit(application.maxJoinsPerSecond),
            ),
          { publishable: true },
        ),
        schema: {
          tags,
          security: apiKeySecurity,
          summary: "Put a visitor in a queue (idempotent per visitor_id)",
          description: JOIN_DESCRIPTION,
          headers: Type.Object({
            "x-anteroom-device": Type.Optional(
              Type.String({
                maxLength: 128,
                description:
                  "with the publishable key: the browser's device secret, 22 to 128 of [A-Za-z0-9_-]",
              }),
            ),
          }),
          body: JoinBody,
          response: { 200: JoinResponse, ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
        },
      },
      async (request) => {
        const application = keyApplicationOf(request);
        const { queue_id, visitor_id, return_to } = request.body;
        const options: JoinOptions = return_to === undefined ? {} : { returnTo: return_to };
        const device = application.publishable ? deviceOf(request) : undefined;
        if (device !== undefined) options.device = device;
        return visitors.join(application.id, queue_id, visitor_id, options);
      },
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
