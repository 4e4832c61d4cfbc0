import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.js";

/**
 * SECRET_KEY when configured; otherwise (embedded mode only) one generated at first start and kept in
 * DATA_DIR/secret.key, so tokens and sealed secrets survive restarts.
 */
export function resolveSecretKey(config: Config, logger: Logger): string {
  if (config.secretKey !== undefined) return config.secretKey;
  const file = path.join(config.dataDir, "secret.key");
  if (fs.existsSync(file)) {
    logger.warn({ file }, "SECRET_KEY is not set; using the generated key kept in the data directory");
    return fs.readFileSync(file, "utf8").trim();
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  fs.writeFileSync(file, secret, { mode: 0o600, flag: "wx" });
  logger.warn(
    { file },
    "SECRET_KEY is not set; generated one and kept it in the data directory (set SECRET_KEY in production)",
  );
  return secret;
}
