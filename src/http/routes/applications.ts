import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { errorResponses, IdParams, Instant, PageOf, PageQuery, Text, Uuid } from "../schemas.js";

const Name = Text(1, 200);
const Domain = Type.String({
  minLength: 1,
  maxLength: 253,
  description: "host name of the site, e.g. shop.example.com",
});
const CallbackUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: "absolute http(s) URL notified when a visitor is released; private addresses are refused",
});
const SharedRate = Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
  description: "optional shared intake across all the application's queues, visitors per minute",
});

const JoinLimit = Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], {
  description:
    "joins a second this application may make (admins only); null: the deployment's default (RATE_LIMIT_JOINS_PER_SECOND)",
});

const OriginPolicy = Type.Union([Type.Literal("domain"), Type.Literal("subdomains")], {
  description:
    "which page origins may use the publishable key, and where released visitors may be sent back (return_to): https://<domain> alone, or its subdomains too",
});

const FrameAncestors = Type.Union([Text(1, 4096), Type.Null()], {
  description:
    "who may frame the hosted waiting page (CSP frame-ancestors): space-separated, at most 16 of https://host[:port], 'self' or 'none'; null: https://<domain>",
});

const AlertEmails = Type.Array(Type.String({ minLength: 3, maxLength: 254 }), {
  maxItems: 20,
  description: "who receives this application's alerts besides ADMIN_EMAIL (at most 20 addresses)",
});

export const ApplicationSchema = Type.Object({
  id: Uuid(),
  name: Type.String(),
  domain: Type.String(),
  callback_url: Type.String(),
  max_users_per_minute: Type.Union([Type.Integer(), Type.Null()]),
  max_joins_per_second: Type.Union([Type.Integer(), Type.Null()], {
    description: "joins a second; null: the deployment's default",
  }),
  api_key_prefix: Type.String({ description: "first characters of the current API key, to tell keys apart" }),
  publishable_key: Type.String({
    description: "public by design: pages join with it (X-API-Key), only from the application's origins",
  }),
  origin_policy: OriginPolicy,
  frame_ancestors: FrameAncestors,
  alert_emails: AlertEmails,
  created_at: Instant,
  updated_at: Instant,
});

const CreatedApplication = Type.Object({
  ...ApplicationSchema.properties,
  api_key: Type.String({ description: "shown once: store it now" }),
  webhook_secret: Type.String({ description: "shown once: verifies X-Anteroom-Signature on callbacks" }),
});

const CreateBody = Type.Object(
  {
    name: Name,
    domain: Domain,
    callback_url: CallbackUrl,
    max_users_per_minute: Type.Optional(SharedRate),
    max_joins_per_second: Type.Optional(JoinLimit),
    origin_policy: Type.Optional(OriginPolicy),
    frame_ancestors: Type.Optional(FrameAncestors),
    alert_emails: Type.Optional(AlertEmails),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Name),
    domain: Type.Optional(Domain),
    callback_url: Type.Optional(CallbackUrl),
    max_users_per_minute: Type.Optional(SharedRate),
    max_joins_per_second: Type.Optional(JoinLimit),
    origin_policy: Type.Optional(OriginPolicy),
    frame_ancestors: Type.Optional(FrameAncestors),
    alert_emails: Type.Optional(AlertEmails),
  },
  { additionalProperties: false, minProperties: 1 },
);

const tags = ["applications"];
const security = [{ bearer: [] }];

/** Applications (sites). Every route runs inside the authenticated admin context (see plugins/admin-auth.ts). */
export const applicationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/applications/",
    {
      schema: {
        tags,
        security,
        summary: "Register an application; returns its API key and webhook secret once",
        body: CreateBody,
        response: { 201: CreatedApplication, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.status(201).send(await request.scope.applications.create(request.body)),
  );

  app.get(
    "/applications/",
    {
      schema: {
        tags,
        security,
        summary: "List the applications you can see",
        querystring: PageQuery,
        response: { 200: PageOf(ApplicationSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => request.scope.applications.list(request.query),
  );

  app.get(
    "/applications/:id",
    {
      schema: {
        tags,
        security,
        summary: "Read one application",
        params: IdParams,
        response: { 200: ApplicationSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => request.scope.applications.get(request.params.id),
  );

  app.put(
    "/applications/:id",
    {
      schema: {
        tags,
        security,
        summary: "Update an application (send only the fields to change)",
        params: IdParams,
        body: UpdateBody,
        response: { 200: ApplicationSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => request.scope.applications.update(request.params.id, request.body),
  );

  app.delete(
    "/applications/:id",
    {
      schema: {
        tags,
        security,
        summary: "Soft-delete an application: it and its queues stop accepting joins",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await request.scope.applications.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/applications/:id/rotate-key",
    {
      schema: {
        tags,
        security,
        summary: "Issue a new API key; the old one stops working at once",
        params: IdParams,
        response: {
          200: Type.Object({ id: Type.String(), api_key: Type.String(), api_key_prefix: Type.String() }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => request.scope.applications.rotateApiKey(request.params.id),
  );

  app.post(
    "/applications/:id/rotate-publishable-key",
    {
      schema: {
        tags,
        security,
        summary: "Issue a new publishable key; the old one stops working at once",
        description:
          "Pages that carry the old key (or fetched it from /public/applications/{id}, cacheable for a minute) need the new one.",
        params: IdParams,
        response: {
          200: Type.Object({ id: Type.String(), publishable_key: Type.String() }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => request.scope.applications.rotatePublishableKey(request.params.id),
  );

  app.post(
    "/applications/:id/rotate-webhook-secret",
    {
      schema: {
        tags,
        security,
        summary: "Issue a new webhook secret; callbacks sent from now on are signed with it",
        params: IdParams,
        response: {
          200: Type.Object({ id: Type.String(), webhook_secret: Type.String() }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request) => request.scope.applications.rotateWebhookSecret(request.params.id),
  );
};
