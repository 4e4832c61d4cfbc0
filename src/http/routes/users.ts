import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { MAX_EMAIL_LENGTH } from "../../domain/email.js";
import { MAX_PASSWORD_LENGTH } from "../../services/auth.js";
import { errorResponses, IdParams, Instant, PageOf, PageQuery, Uuid } from "../schemas.js";

const Role = Type.Union([Type.Literal("admin"), Type.Literal("operator"), Type.Literal("viewer")]);
const Password = Type.String({
  minLength: 1,
  maxLength: MAX_PASSWORD_LENGTH,
  description: "at least 12 characters",
});

const UserSchema = Type.Object({
  id: Uuid(),
  email: Type.String(),
  role: Role,
  application_ids: Type.Array(Uuid(), {
    description: "applications granted to an operator or viewer",
  }),
  created_at: Instant,
  updated_at: Instant,
  disabled_at: Type.Union([Instant, Type.Null()]),
});

const CreateBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: MAX_EMAIL_LENGTH }), password: Password, role: Role },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  { role: Type.Optional(Role), password: Type.Optional(Password), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
const GrantBody = Type.Object({ application_id: Uuid() }, { additionalProperties: false });
const GrantParams = Type.Object({ id: Uuid(), applicationId: Uuid() }, { additionalProperties: false });

const tags = ["users"];
const security = [{ bearer: [] }];

/** Accounts and grants; admin only (the domain refuses other roles with 403). */
export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    "/users/",
    {
      schema: {
        tags,
        security,
        summary: "Create a user",
        body: CreateBody,
        response: { 201: UserSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await request.scope.users.create(request.body)),
  );

  app.get(
    "/users/",
    {
      schema: {
        tags,
        security,
        summary: "List users",
        querystring: PageQuery,
        response: { 200: PageOf(UserSchema), ...errorResponses(401, 403) },
      },
    },
    async (request) => request.scope.users.list(request.query),
  );

  app.get(
    "/users/:id",
    {
      schema: {
        tags,
        security,
        summary: "Read a user",
        params: IdParams,
        response: { 200: UserSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => request.scope.users.get(request.params.id),
  );

  app.put(
    "/users/:id",
    {
      schema: {
        tags,
        security,
        summary: "Change a user's role or password, or disable them",
        params: IdParams,
        body: UpdateBody,
        response: { 200: UserSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => request.scope.users.update(request.params.id, request.body),
  );

  app.delete(
    "/users/:id",
    {
      schema: {
        tags,
        security,
        summary: "Delete a user",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await request.scope.users.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/users/:id/grants",
    {
      schema: {
        tags,
        security,
        summary: "Grant an operator or viewer access to an application",
        params: IdParams,
        body: GrantBody,
        response: { 200: UserSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => request.scope.users.grant(request.params.id, request.body.application_id),
  );

  app.delete(
    "/users/:id/grants/:applicationId",
    {
      schema: {
        tags,
        security,
        summary: "Revoke a grant",
        params: GrantParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await request.scope.users.revoke(request.params.id, request.params.applicationId);
      return reply.status(204).send(null);
    },
  );
};
