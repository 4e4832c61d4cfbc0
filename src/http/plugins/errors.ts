import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { asUnavailable } from "../../domain/dependency-errors.js";
import { AppError, type ErrorCode } from "../../domain/errors.js";
import { errorMessage, negotiateLanguage } from "../../i18n/index.js";

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

/** Routes a visitor's browser or app calls: their errors speak the visitor's language. */
const VISITOR_PATHS = new Set(["/join", "/queue_status", "/cancel", "/queue_events"]);
const VISITOR_PREFIXES = ["/public/", "/wait/"];

export function isVisitorPath(url: string): boolean {
  const query = url.indexOf("?");
  let path = query < 0 ? url : url.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return VISITOR_PATHS.has(path) || VISITOR_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/**
 * The error with its `message` in the visitor's language (`lang`, else `Accept-Language`); the code, status
 * and field stay. English keeps the API's own, more precise, messages. Only ever called for an error, so
 * the visitor path pays nothing when it succeeds.
 */
export function localizeError(
  appError: AppError,
  acceptLanguage: string | undefined,
  lang?: string,
): AppError {
  if (acceptLanguage === undefined && lang === undefined) return appError;
  const language = negotiateLanguage(lang, acceptLanguage);
  if (language === "en") return appError;
  const message = errorMessage(language, appError.code);
  return message === undefined ? appError : new AppError(appError.code, message, appError.extra);
}

function languageOf(request: FastifyRequest): { accept: string | undefined; lang: string | undefined } {
  const header = request.headers["accept-language"];
  const lang = (request.query as { lang?: unknown } | undefined)?.lang;
  return {
    accept: typeof header === "string" ? header : undefined,
    lang: typeof lang === "string" && request.url.startsWith("/wait/") ? lang : undefined,
  };
}

/** The error as a visitor route answers it: in the visitor's language. */
export function visitorError(request: FastifyRequest, appError: AppError): AppError {
  if (!isVisitorPath(request.url)) return appError;
  const { accept, lang } = languageOf(request);
  return localizeError(appError, accept, lang);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const appError = visitorError(request, error);
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
