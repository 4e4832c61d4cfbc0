import { type AppError, errors } from "./errors.js";

/**
 * Whether an error means a dependency (PostgreSQL, Redis) is unreachable rather than that the request is
 * wrong or the code is broken: such failures are answered 503 with Retry-After, and clients retry.
 */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);
const CONNECTION_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Connection is closed",
  "enableOfflineQueue",
  "Reached the max retries per request limit",
  "Command timed out",
  "Query read timeout",
];

export function isDependencyDown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
  if (error.name === "MaxRetriesPerRequestError") return true;
  return CONNECTION_MESSAGES.some((fragment) => error.message.includes(fragment));
}

export function asUnavailable(error: unknown): AppError | undefined {
  return isDependencyDown(error)
    ? errors.unavailable("a dependency is unavailable; retry shortly", 2)
    : undefined;
}
