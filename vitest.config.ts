import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * Two projects run the same behaviour tests: "embedded" on SQLite and the in-process index, "production" on
 * PostgreSQL and Redis (test/helpers/harness.ts picks the adapters from the project). The production project
 * needs both servers, or their binaries to start private ones; outside CI it is left out, loudly, when they
 * are missing. Under CI=true it always runs (and fails if the servers cannot be had).
 */
function canRun(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const productionPossible =
  (existsSync("/usr/lib/postgresql") || process.env.DB_URL?.startsWith("postgres") === true) &&
  (canRun("redis-server") || process.env.REDIS_URL !== undefined);
const runProduction = process.env.CI === "true" || productionPossible;
if (!runProduction) {
  console.warn("\n!!! PostgreSQL or Redis unavailable: the production-adapter tests are SKIPPED !!!\n");
}

const shared = { testTimeout: 30_000, hookTimeout: 60_000, pool: "forks" as const };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: "embedded",
          include: ["test/**/*.test.ts"],
          exclude: ["test/production/**"],
          provide: { adapter: "embedded" },
        },
      },
      ...(runProduction
        ? [
            {
              test: {
                ...shared,
                name: "production",
                include: [
                  "test/waiting-room/**/*.test.ts",
                  "test/http/**/*.test.ts",
                  "test/production/**/*.test.ts",
                ],
                provide: { adapter: "production" as const },
              },
            },
          ]
        : []),
    ],
  },
});
