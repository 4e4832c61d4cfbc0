import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { errorResponses, IdParams, Instant, PageOf, PageQuery, Text, Uuid } from "../schemas.js";

const Name = Text(1, 200);
const Rate = Type.Integer({ minimum: 1, maximum: 1_000_000, description: "visitors released per minute" });
const Priority = Type.Integer({
  minimum: -1000,
  maximum: 1000,
  description: "higher is served first when queues share their application's intake",
});

const Mode = Type.Union([Type.Literal("live"), Type.Literal("simulation")], {
  description: "simulation: behaves like live but sends no callbacks (it records them), metrics kept apart",
});
const ReleaseTtl = Type.Integer({
  minimum: 30,
  maximum: 86_400,
  description: "a released visitor not seen (no poll, no admission check) within this many seconds expires",
});
const AbandonAfter = Type.Integer({
  minimum: 30,
  maximum: 86_400,
  description: "a waiting visitor who stops polling for this many seconds loses the place",
});
const AdmissionTtl = Type.Integer({
  minimum: 60,
  maximum: 7 * 86_400,
  description: "lifetime of the admission token (JWT exp - iat), seconds",
});
const RedirectUrl = Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()], {
  description: "where a released visitor is sent (default https://<application domain>/)",
});

const AlertThreshold = Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.Null()], {
  description: "queue length above which an alert fires; null: QUEUE_THRESHOLD",
});

const LANGUAGE = "^[a-z]{2}(-[A-Z]{2})?$";
/** Text per language: at most 10 languages, keys like `en` or `pt-BR`. */
const Texts = (maxLength: number, description: string) =>
  Type.Record(Type.String({ pattern: LANGUAGE }), Text(1, maxLength), {
    maxProperties: 10,
    additionalProperties: false,
    description,
  });

const PageSettings = Type.Object(
  {
    title: Type.Optional(
      Texts(120, "the page's heading by language code (en, ar, pt-BR), at most 120 characters"),
    ),
    message: Type.Optional(Texts(1000, "a line under the heading by language code, at most 1000 characters")),
    logo_url: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, description: "an absolute https URL of the logo" }),
    ),
    accent_color: Type.Optional(
      Type.String({ maxLength: 7, pattern: "^#[0-9a-fA-F]{6}$", description: "#rrggbb" }),
    ),
  },
  { additionalProperties: false },
);

const Page = Type.Union([PageSettings, Type.Null()], {
  description:
    "the hosted waiting page's title, message, logo and accent colour (a language without its own text falls back to English); null: the defaults",
});

const Settings = {
  name: Name,
  max_users_per_minute: Rate,
  priority: Priority,
  release_ttl_seconds: ReleaseTtl,
  abandon_after_seconds: AbandonAfter,
  admission_ttl_seconds: AdmissionTtl,
  redirect_url: RedirectUrl,
  page: Page,
  alert_threshold: AlertThreshold,
};

export const QueueSchema = Type.Object({
  id: Uuid(),
  application_id: Uuid(),
  ...Settings,
  mode: Mode,
  created_at: Instant,
  updated_at: Instant,
});

const CreateBody = Type.Object(
  {
    application_id: Uuid(),
    name: Name,
    max_users_per_minute: Rate,
    priority: Type.Optional(Priority),
    mode: Type.Optional(Mode),
    release_ttl_seconds: Type.Optional(ReleaseTtl),
    abandon_after_seconds: Type.Optional(AbandonAfter),
    admission_ttl_seconds: Type.Optional(AdmissionTtl),
    redirect_url: Type.Optional(RedirectUrl),
    page: Type.Optional(Page),
    alert_threshold: Type.Optional(AlertThreshold),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Name),
    max_users_per_minute: Type.Optional(Rate),
    priority: Type.Optional(Priority),
    release_ttl_seconds: Type.Optional(ReleaseTtl),
    abandon_after_seconds: Type.Optional(AbandonAfter),
    admission_ttl_seconds: Type.Optional(AdmissionTtl),
    redirect_url: Type.Optional(RedirectUrl),
    page: Type.Optional(Page),
    alert_threshold: Type.Optional(AlertThreshold),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ListQuery = Type.Object({
  ...PageQuery.properties,
  application_id: Type.Optional(Uuid()),
});

const tags = ["queues"];
const security = [{ bearer: [] }];

export const queueRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/queues/",
    {
      schema: {
        tags,
        security,
        summary: "Create a queue in an application",
        body: CreateBody,
        response: { 201: QueueSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => reply.status(201).send(await request.scope.queues.create(request.body)),
  );

  app.get(
    "/queues/",
    {
      schema: {
        tags,
        security,
        summary: "List the queues you can see, optionally of one application",
        querystring: ListQuery,
        response: { 200: PageOf(QueueSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { application_id, ...page } = request.query;
      return request.scope.queues.list(page, application_id);
    },
  );

  app.get(
    "/queues/:id",
    {
      schema: {
        tags,
        security,
        summary: "Read one queue",
        params: IdParams,
        response: { 200: QueueSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => request.scope.queues.get(request.params.id),
  );

  app.put(
    "/queues/:id",
    {
      schema: {
        tags,
        security,
        summary: "Update a queue (send only the fields to change)",
        params: IdParams,
        body: UpdateBody,
        response: { 200: QueueSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => request.scope.queues.update(request.params.id, request.body),
  );

  app.delete(
    "/queues/:id",
    {
      schema: {
        tags,
        security,
        summary: "Soft-delete a queue: it stops accepting joins",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await request.scope.queues.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
