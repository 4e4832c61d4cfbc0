import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { errorResponses, IdParams, Instant, PageOf, PageQuery } from "../schemas.js";

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Rate = Type.Integer({ minimum: 1, maximum: 1_000_000, description: "visitors released per minute" });
const Priority = Type.Integer({
  minimum: -1000,
  maximum: 1000,
  description: "higher is served first when queues share their application's intake",
});

export const QueueSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  application_id: Type.String({ format: "uuid" }),
  name: Type.String(),
  max_users_per_minute: Type.Integer(),
  priority: Type.Integer(),
  created_at: Instant,
  updated_at: Instant,
});

const CreateBody = Type.Object(
  {
    application_id: Type.String({ format: "uuid" }),
    name: Name,
    max_users_per_minute: Rate,
    priority: Type.Optional(Priority),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  { name: Type.Optional(Name), max_users_per_minute: Type.Optional(Rate), priority: Type.Optional(Priority) },
  { additionalProperties: false, minProperties: 1 },
);

const ListQuery = Type.Object({
  ...PageQuery.properties,
  application_id: Type.Optional(Type.String({ format: "uuid" })),
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
