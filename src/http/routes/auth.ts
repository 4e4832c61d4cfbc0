import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { MAX_EMAIL_LENGTH } from "../../domain/email.js";
import { type AuthService, MAX_PASSWORD_LENGTH, OAuthError } from "../../services/auth.js";

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal("bearer"),
  expires_in: Type.Integer({ description: "seconds" }),
});
const OAuthErrorBody = Type.Object({
  error: Type.String({ description: "RFC 6749 error code" }),
  error_description: Type.String(),
});

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * OAuth2 password grant (RFC 6749 §4.3). Its errors follow RFC 6749 §5.2, not the API's error shape,
 * so standard OAuth clients understand them. Accepts form or JSON bodies.
 */
export function tokenRoute(auth: AuthService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      "/auth/token",
      {
        attachValidation: true,
        schema: {
          tags: ["auth"],
          summary: "Log in with email and password (OAuth2 password grant)",
          consumes: ["application/x-www-form-urlencoded", "application/json"],
          body: Type.Object({
            grant_type: Type.Optional(Type.String({ maxLength: 64 })),
            username: Type.Optional(Type.String({ maxLength: MAX_EMAIL_LENGTH })),
            password: Type.Optional(Type.String({ maxLength: MAX_PASSWORD_LENGTH })),
          }),
          response: { 200: TokenResponse, 400: OAuthErrorBody, 429: OAuthErrorBody },
        },
      },
      async (request, reply) => {
        reply.header("cache-control", "no-store").header("pragma", "no-cache");
        try {
          // RFC 6749 §5.2: the grant type decides first, whatever else is missing; then the lengths, which
          // are checked before anything is counted, looked up or hashed.
          const grantType = field(request.body, "grant_type");
          if (grantType === undefined) {
            throw new OAuthError(400, "invalid_request", "grant_type is required");
          }
          if (grantType !== "password") {
            throw new OAuthError(400, "unsupported_grant_type", "only grant_type=password is supported");
          }
          const username = field(request.body, "username");
          const password = field(request.body, "password");
          if (username === undefined || password === undefined) {
            throw new OAuthError(400, "invalid_request", "username and password are required, once each");
          }
          if (username.length > MAX_EMAIL_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
            throw new OAuthError(
              400,
              "invalid_request",
              `username must be at most ${MAX_EMAIL_LENGTH} characters and password at most ${MAX_PASSWORD_LENGTH}`,
            );
          }
          if (request.validationError) {
            throw new OAuthError(400, "invalid_request", "grant_type, username and password must be strings");
          }
          return await auth.passwordGrant(username, password, request.ip);
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error;
          if (error.retryAfterSeconds !== undefined)
            reply.header("retry-after", String(error.retryAfterSeconds));
          return reply
            .status(error.status)
            .send({ error: error.error, error_description: error.description });
        }
      },
    );
  };
}

/** Who am I: lets a dashboard show the caller's role and grants. Runs inside the admin context. */
export const meRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/auth/me",
    {
      schema: {
        tags: ["auth"],
        security: [{ bearer: [] }],
        summary: "The authenticated user, role and granted applications",
        response: {
          200: Type.Object({
            id: Type.String(),
            email: Type.String(),
            role: Type.String(),
            application_ids: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const { actor } = request.scope;
      return { id: actor.userId, email: actor.email, role: actor.role, application_ids: [...actor.grants] };
    },
  );
};
