import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
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

/** Something answers on this local port (a server we can use even without its binaries installed). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", timeout: 300 });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

async function productionPossible(): Promise<boolean> {
  const postgres =
    process.env.DB_URL?.startsWith("postgres") === true ||
    existsSync("/usr/lib/postgresql") ||
    (await listening(5432));
  const redis = process.env.REDIS_URL !== undefined || canRun("redis-server") || (await listening(6379));
  return postgres && redis;
}

const shared = { testTimeout: 30_000, hookTimeout: 60_000, pool: "forks" as const };

export default defineConfig(async () => {
  const runProduction = process.env.CI === "true" || (await productionPossible());
  if (!runProduction) {
    console.warn("\n!!! PostgreSQL or Redis unavailable: the production-adapter tests are SKIPPED !!!\n");
  }
  return {
    test: {
      // `npm run test:coverage` (and CI): V8 coverage of src/, summarised in the log.
      coverage: {
        provider: "v8" as const,
        include: ["src/**/*.ts"],
        reporter: ["text", "text-summary"],
        reportsDirectory: ".ci/out/coverage",
      },
      projects: [
        {
          test: {
            ...shared,
            name: "embedded",
            include: ["test/**/*.test.ts"],
            exclude: ["test/production/**"],
            provide: { adapter: "embedded" as const },
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
  };
});
