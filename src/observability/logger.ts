import pino, { type DestinationStream, type Logger } from "pino";
import { prettyFactory } from "pino-pretty";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** `auto`: pretty when stdout is a terminal, JSON lines otherwise. */
export type LogFormatSetting = "auto" | "pretty" | "json";

export type LogFormat = "pretty" | "json";

/** LOG_FORMAT=auto: people at a terminal get readable lines, anything reading a pipe or a file gets JSON. */
export function chooseLogFormat(setting: LogFormatSetting, isTerminal: boolean): LogFormat {
  if (setting === "auto") return isTerminal ? "pretty" : "json";
  return setting;
}

/** The format this process's stdout gets (the banner says which). */
export function stdoutLogFormat(setting: LogFormatSetting): LogFormat {
  return chooseLogFormat(setting, process.stdout.isTTY === true);
}

/**
 * One line per entry: time, level, `process: message`, then the other fields as compact JSON. Formatted in
 * the writing call, not in a transport (worker thread or stream pipeline), so a line logged just before
 * process.exit is never lost.
 */
function prettyDestination(out: DestinationStream, colour: boolean): DestinationStream {
  const format = prettyFactory({
    colorize: colour,
    singleLine: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "service,process",
    messageFormat: "{if process}{process}: {end}{msg}",
  });
  return { write: (line: string) => out.write(format(line)) };
}

export interface LoggerSettings {
  logLevel: LogLevel;
  logFormat: LogFormatSetting;
}

/**
 * Logs to stdout (or `out`, in tests): JSON lines, or pretty lines (see chooseLogFormat; colours only on a
 * terminal). Secrets that could reach a log line are redacted by path, in both formats.
 */
export function createLogger(
  settings: LoggerSettings,
  out: { stream: DestinationStream; isTerminal: boolean } = {
    stream: process.stdout,
    isTerminal: process.stdout.isTTY === true,
  },
): Logger {
  const format = chooseLogFormat(settings.logFormat, out.isTerminal);
  const options = {
    level: settings.logLevel,
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
  };
  if (format === "pretty") return pino(options, prettyDestination(out.stream, out.isTerminal));
  // JSON to the real stdout keeps pino's own synchronous writer; anything else is written to as given.
  return out.stream === process.stdout ? pino(options) : pino(options, out.stream);
}
