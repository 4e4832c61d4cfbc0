/**
 * The closed set of error codes the API returns. Every error leaves the service as
 * `{error: {code, message, request_id}}` with the status below; clients may switch on `code`.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_callback_url: 400,
  device_required: 400,
  unauthorized: 401,
  invalid_api_key: 401,
  invalid_token: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  secret_key_in_browser: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_STATUS[code];
  }
}

/** Factories, so call sites read as what went wrong rather than how it is encoded. */
export const errors = {
  validation: (field: string, message: string) =>
    new AppError("validation_failed", `${field}: ${message}`, { field }),
  unauthorized: (message = "authentication required") => new AppError("unauthorized", message),
  invalidApiKey: (message = "the API key is missing or not valid") =>
    new AppError("invalid_api_key", message),
  invalidToken: (message = "the token is missing, malformed or not valid") =>
    new AppError("invalid_token", message),
  forbidden: (message = "your role does not allow this action") => new AppError("forbidden", message),
  notFound: (what: string) => new AppError("not_found", `${what} not found`),
  conflict: (message: string) => new AppError("conflict", message),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError("rate_limited", "too many requests; retry later", { retryAfterSeconds }),
  unavailable: (message: string, retryAfterSeconds = 1) =>
    new AppError("unavailable", message, { retryAfterSeconds }),
  invalidCallbackUrl: (message: string) =>
    new AppError("invalid_callback_url", `callback_url: ${message}`, { field: "callback_url" }),
  /** A publishable-key join from a page whose origin is not the application's. */
  originNotAllowed: () =>
    new AppError("origin_not_allowed", "this origin may not use the application's publishable key"),
  /** The secret key on a request a browser made: it would be readable by anyone who opens the page. */
  secretKeyInBrowser: () =>
    new AppError(
      "secret_key_in_browser",
      "the secret API key must never be sent from a browser; pages join with the application's publishable key (pk_...)",
    ),
  deviceRequired: () =>
    new AppError(
      "device_required",
      "X-Anteroom-Device: a page's join needs the browser's device secret (22 to 128 characters of A-Z, a-z, 0-9, _ and -)",
      { field: "X-Anteroom-Device" },
    ),
};
