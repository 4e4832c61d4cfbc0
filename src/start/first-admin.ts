import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureUser } from "../services/users.js";
import { UniqueViolation } from "../store/types.js";
import type { Runtime } from "./runtime.js";

export const DEFAULT_ADMIN_EMAIL = "admin@anteroom.local";

/**
 * The first admin. From ADMIN_EMAIL + ADMIN_PASSWORD when both are set (created once, never overwritten);
 * otherwise, when no user exists at all, an admin with a generated password written to
 * DATA_DIR/initial-admin-password (mode 0600), so a fresh `npm start` can be logged into.
 */
export async function bootstrapFirstAdmin(runtime: Runtime): Promise<void> {
  const { config, logger, store, clock } = runtime;
  try {
    if (config.adminEmail !== undefined && config.adminPassword !== undefined) {
      const { user, created } = await ensureUser(
        { store, clock },
        { email: config.adminEmail, password: config.adminPassword, role: "admin" },
      );
      if (created) logger.info({ email: user.email }, "created the first admin from ADMIN_EMAIL");
      return;
    }
    const existing = await store.users.list({ limit: 1, offset: 0 });
    if (existing.total > 0) return;
    const email = config.adminEmail ?? DEFAULT_ADMIN_EMAIL;
    const password = randomBytes(18).toString("base64url");
    const { created } = await ensureUser({ store, clock }, { email, password, role: "admin" });
    if (!created) return; // another process sharing this record created it first, with its own password
    const file = path.join(config.dataDir, "initial-admin-password");
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(file, password, { mode: 0o600 });
    logger.warn(
      { email, passwordFile: file },
      "no users existed: created an admin with a generated password (read it from passwordFile, then change it)",
    );
  } catch (error) {
    // Another process created the same admin at the same moment: nothing to do.
    if (!(error instanceof UniqueViolation)) throw error;
  }
}
