import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { type LogFormat, stdoutLogFormat } from "../observability/logger.js";

/**
 * What a process says once it is listening: where to reach it, which mode it runs in, where its data lives
 * and how it logs. Pretty logs get a few readable lines; JSON logs one entry with the same as fields.
 */
export type Command = "serve" | "worker";

/** PostgreSQL or Redis as `user@host:port/db`: never the password, nor the query (which may hold one). */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username === "" ? "" : `${decodeURIComponent(parsed.username)}@`;
    const path = parsed.pathname === "/" ? "" : parsed.pathname;
    return `${user}${parsed.host}${path}${parsed.protocol === "rediss:" ? " (TLS)" : ""}`;
  } catch {
    return "(unparsable URL)";
  }
}

/** The address a browser on this machine would use for what the process bound. */
function baseUrl(host: string, port: number): string {
  const local = host === "0.0.0.0" || host === "::" || host === "";
  const shown = local ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

export interface Banner {
  lines: string[];
  fields: Record<string, string>;
}

export function banner(config: Config, command: Command, port: number, logFormat: LogFormat): Banner {
  const url = baseUrl(config.host, port);
  const embedded = config.mode === "embedded";
  const data = embedded
    ? `SQLite ${config.database.url}`
    : `PostgreSQL ${where(config.database.url)}, Redis ${config.redisUrl === undefined ? "(unset)" : where(config.redisUrl)}`;
  const fields: Record<string, string> = {
    url,
    ...(command === "serve" ? { docs: `${url}/docs` } : {}),
    ...(command === "serve" && config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {}),
    mode: config.mode,
    data,
    logs: `${logFormat}, level ${config.logLevel}`,
  };
  const first =
    command === "serve"
      ? `anteroom serve: API at ${url}, docs at ${url}/docs`
      : `anteroom worker: /metrics, /healthz, /readyz at ${url}`;
  const modeLine = embedded
    ? "embedded (SQLite record, in-process index, release worker in this process)"
    : `production (PostgreSQL record, Redis index${command === "serve" ? "; release runs in `anteroom worker`" : ""})`;
  const lines = [
    first,
    ...(fields.publicUrl === undefined ? [] : [`public URL: ${fields.publicUrl}`]),
    `mode: ${modeLine}`,
    `data: ${data}${embedded ? ` (DATA_DIR ${config.dataDir})` : ""}`,
    `logs: ${fields.logs}${logFormat === "pretty" ? " (LOG_FORMAT=json for JSON lines)" : ""}`,
  ];
  return { lines, fields };
}

/** Logs the banner once, at info, for a server that is listening at `address`. */
export function logBanner(
  logger: Logger,
  config: Config,
  command: Command,
  address: AddressInfo | string | null,
): void {
  const bound = typeof address === "object" && address !== null ? address.port : undefined;
  const port = bound ?? (command === "serve" ? config.port : config.workerPort);
  const format = stdoutLogFormat(config.logFormat);
  const { lines, fields } = banner(config, command, port, format);
  if (format === "pretty") logger.info(lines.join("\n    "));
  else logger.info(fields, command === "serve" ? "anteroom is serving" : "anteroom worker running");
}
