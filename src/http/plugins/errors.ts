import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { asUnavailable } from "../../domain/dependency-errors.js";
import { AppError, type ErrorCode } from "../../domain/errors.js";

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** A field name a client can act on: "name", "items.0.id", or the missing property of a `required` failure. */
function fieldOf(issue: ValidationIssue | undefined, context: string | undefined): string {
  if (issue === undefined) return context ?? "body";
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  const base = (issue.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
  if (typeof missing === "string") return base === "" ? missing : `${base}.${missing}`;
  return base === "" ? (context ?? "body") : base;
}

function describe(issue: ValidationIssue | undefined): string {
  if (issue === undefined) return "is not valid";
  if (typeof issue.params?.additionalProperty === "string") return "is not a known field";
  if (typeof issue.params?.missingProperty === "string") return "is required";
  return issue.message ?? "is not valid";
}

/** Turns anything thrown into the one error shape, with a code from the closed set. */
export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fastifyError.validation) {
    const issue = fastifyError.validation[0];
    const field = fieldOf(issue, fastifyError.validationContext);
    return new AppError("validation_failed", `${field}: ${describe(issue)}`, { field });
  }
  const byCode: Record<string, [ErrorCode, string]> = {
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ["unsupported_media_type", "send the body as application/json"],
    FST_ERR_CTP_BODY_TOO_LARGE: ["payload_too_large", "the request body is too large"],
    FST_ERR_CTP_EMPTY_JSON_BODY: ["validation_failed", "body: is required"],
    FST_ERR_CTP_INVALID_JSON_BODY: ["validation_failed", "body: is not valid JSON"],
  };
  const known = fastifyError.code === undefined ? undefined : byCode[fastifyError.code];
  if (known !== undefined) {
    return new AppError(known[0], known[1], known[0] === "validation_failed" ? { field: "body" } : {});
  }
  if (fastifyError.statusCode === 400 && error instanceof SyntaxError) {
    return new AppError("validation_failed", "body: is not valid JSON", { field: "body" });
  }
  if (fastifyError.statusCode === 429) return new AppError("rate_limited", "too many requests; retry later");
  return (
    asUnavailable(error) ?? new AppError("internal_error", "an unexpected error occurred; it has been logged")
  );
}

/** The one error body: `{error: {code, message, request_id, field?}}`. */
export function errorBody(appError: AppError, requestId: string) {
  return {
    error: {
      code: appError.code,
      message: appError.message,
      request_id: requestId,
      ...(appError.extra.field === undefined ? {} : { field: appError.extra.field }),
    },
  };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, appError: AppError): FastifyReply {
  if (appError.extra.retryAfterSeconds !== undefined) {
    reply.header("retry-after", String(appError.extra.retryAfterSeconds));
  }
  return reply.status(appError.status).send(errorBody(appError, request.id));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "internal_error") {
      request.log.error({ err: error, reqId: request.id }, "unhandled error");
    } else if (appError.code === "unavailable") {
      request.log.warn({ err: error.message, reqId: request.id }, "dependency unavailable");
    }
    return sendError(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new AppError("not_found", `no route for ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}
