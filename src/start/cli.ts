import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig } from "../config/index.js";
import { ROLES } from "../domain/access.js";
import { AppError } from "../domain/errors.js";
import { createLogger } from "../observability/logger.js";
import { ensureUser } from "../services/users.js";
import type { Role } from "../store/types.js";
import { resealSecrets } from "./reseal.js";
import { openRuntime } from "./runtime.js";
import { serve } from "./server.js";
import { runWorker } from "./worker.js";

const USAGE = `usage: anteroom <command>

commands:
  serve                      run the HTTP API (embedded mode also runs the release worker in-process)
  worker                     production mode: release, expiry, callbacks, index upkeep (any number of them)
  migrate                    apply pending database migrations and exit
  reseal                     re-encrypt stored secrets under SECRET_KEY (SECRET_KEY rotation, with
                             SECRET_KEY_PREVIOUS set; see docs/operations.md)
  admin create-user --email <email> --role <admin|operator|viewer> (--password <pw> | --password-stdin)
                             create a user (idempotent by email)

configuration comes from environment variables and a .env file in the working directory (the
environment wins); see README.md and .env.example`;

async function createUser(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: "string" },
      role: { type: "string", default: "admin" },
      password: { type: "string" },
      "password-stdin": { type: "boolean", default: false },
    },
  });
  const role = values.role as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(", ")}`);
  const password = values["password-stdin"] ? readFileSync(0, "utf8").trim() : values.password;
  if (values.email === undefined || password === undefined) {
    throw new Error("--email and --password (or --password-stdin) are required");
  }
  const logger = createLogger(config);
  const runtime = await openRuntime(config, logger, { migrate: config.mode === "embedded" });
  try {
    const { user, created } = await ensureUser(runtime, { email: values.email, password, role });
    process.stdout.write(
      created
        ? `created ${user.role} ${user.email} (${user.id})\n`
        : `${user.email} already exists; unchanged\n`,
    );
  } finally {
    await runtime.close();
  }
}

async function migrate(config: Config): Promise<void> {
  const logger = createLogger(config);
  const runtime = await openRuntime(config, logger, { migrate: false });
  try {
    const applied = await runtime.store.migrate();
    process.stdout.write(
      applied.length === 0 ? "schema is up to date\n" : `applied: ${applied.join(", ")}\n`,
    );
  } finally {
    await runtime.close();
  }
}

async function reseal(config: Config): Promise<number> {
  const logger = createLogger(config);
  const runtime = await openRuntime(config, logger, { migrate: config.mode === "embedded" });
  try {
    const report = await resealSecrets(runtime.store, runtime.keys);
    process.stdout.write(
      `resealed ${report.resealed}, already under SECRET_KEY ${report.current}` +
        (report.unreadable.length === 0 ? "\n" : `, unreadable ${report.unreadable.length}:\n`),
    );
    for (const name of report.unreadable) process.stdout.write(`  ${name}\n`);
    if (report.unreadable.length > 0 && config.previousSecretKey === undefined) {
      process.stderr.write("anteroom: set SECRET_KEY_PREVIOUS to the key these were sealed with\n");
    }
    return report.unreadable.length === 0 ? 0 : 1;
  } finally {
    await runtime.close();
  }
}

export async function main(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  options: { envFile?: string } = {},
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "help" || command === "--help") {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    const config = loadConfig(env, options.envFile);
    if (command === "serve") {
      await serve(config);
      return -1; // keeps running until a signal
    }
    if (command === "worker") {
      await runWorker(config);
      return -1; // keeps running until a signal
    }
    if (command === "reseal") return await reseal(config);
    if (command === "migrate") {
      await migrate(config);
      return 0;
    }
    if (command === "admin" && rest[0] === "create-user") {
      await createUser(config, rest.slice(1));
      return 0;
    }
    process.stderr.write(`unknown command: ${argv.join(" ")}\n\n${USAGE}\n`);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AppError) {
      process.stderr.write(`anteroom: ${error.message}\n`);
      return 78; // EX_CONFIG
    }
    process.stderr.write(
      `anteroom: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
