import { describe, expect, it } from "vitest";
import { createDatabase } from "../helpers/cluster.js";
import { postgresForTests } from "../helpers/postgres.js";
import { runCli } from "../helpers/process.js";
import { redisForTests } from "../helpers/redis.js";

describe("production start-up", () => {
  it("refuses to serve or work on an outdated schema, naming the migration to run", async () => {
    const server = await postgresForTests();
    const redis = await redisForTests();
    if (server === undefined || redis === undefined) throw new Error("PostgreSQL and Redis are required");
    const database = await createDatabase(server);
    try {
      const env = {
        DB_URL: database.url,
        REDIS_URL: redis.url,
        SECRET_KEY: "s".repeat(40),
        LOG_LEVEL: "error",
      };
      for (const command of ["serve", "worker"]) {
        const refused = await runCli([command], { ...env, PORT: "0", WORKER_PORT: "0" });
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toContain("run: anteroom migrate");
        expect(refused.stderr).toContain("001-initial");
      }
      const migrated = await runCli(["migrate"], env);
      expect(migrated.stdout).toContain("applied: 001-initial, 002-waiting-room");
      expect((await runCli(["migrate"], env)).stdout).toContain("schema is up to date");
    } finally {
      await database.drop();
    }
  }, 60_000);
});
