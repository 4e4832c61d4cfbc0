import pino, { type Logger } from "pino";
import type { LogLevel } from "../config.js";

/** JSON logs to stdout; secrets that could reach a log line are redacted by path. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "anteroom" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "req.headers.authorization",
        'req.headers["x-api-key"]',
        "req.headers.app_api_key",
        "*.password",
      ],
      censor: "[redacted]",
    },
  });
}
