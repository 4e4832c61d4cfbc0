import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { type Config, ConfigError, MIN_SECRET_KEY_LENGTH } from "../config/index.js";

/**
 * SECRET_KEY when configured; otherwise (embedded mode only) one generated at first start and kept in
 * DATA_DIR/secret.key, so tokens and sealed secrets survive restarts. Every key is derived from it, so a
 * short or empty file would make forged tokens and readable webhook secrets: such a file stops start-up.
 */
export function resolveSecretKey(config: Config, logger: Logger): string {
  if (config.secretKey !== undefined) return config.secretKey;
  const file = path.join(config.dataDir, "secret.key");
  if (fs.existsSync(file)) {
    const secret = readSecret(file);
    logger.warn({ file }, "SECRET_KEY is not set; using the generated key kept in the data directory");
    return secret;
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  if (!writeNew(file, secret)) return readSecret(file); // another process created it first: use theirs
  logger.warn(
    { file },
    "SECRET_KEY is not set; generated one and kept it in the data directory (set SECRET_KEY in production)",
  );
  return secret;
}

function readSecret(file: string): string {
  const secret = fs.readFileSync(file, "utf8").trim();
  if (secret.length < MIN_SECRET_KEY_LENGTH) {
    throw new ConfigError([
      `${file} holds ${secret.length === 0 ? "no key" : `a key of ${secret.length} characters`}; a secret key must be at least ${MIN_SECRET_KEY_LENGTH} characters. ` +
        "Restore the file from a backup, or set SECRET_KEY (a new key invalidates issued tokens and stored webhook secrets)",
    ]);
  }
  return secret;
}

/**
 * Writes the key so that a crash never leaves a partial file behind: a temporary file (owner-only),
 * flushed to disk, then linked into place (which, unlike rename, never replaces a key another process has
 * just written), and the directory flushed so the new name survives a power cut. False if the file exists.
 */
function writeNew(file: string, secret: string): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(temporary, "wx", 0o600);
  try {
    fs.writeSync(fd, secret);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  const dir = fs.openSync(path.dirname(file), "r");
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
  return true;
}
