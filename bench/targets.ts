// The servers the bench measures: the plain node:http baseline and the Anteroom under test. Each exposes a
// LIST of base URLs; the load generator spreads its connections over them (see load.ts), so a deployment
// with several API processes is measured through all of them at once.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { MemoryFigures } from "./memory-probe.js";
import type { Mode } from "./options.js";
import {
  type Child,
  childEnv,
  freePort,
  HOST,
  makeTempDir,
  startChild,
  stopChild,
  type TempDir,
  waitReady,
} from "./processes.js";
import { measureRedisMemory, migrate, startServices, startWorker } from "./production.js";

export interface Server {
  /** Base URLs (no trailing slash) the load generator spreads its connections over: one per process. */
  baseUrls: readonly string[];
  stop(): Promise<void>;
}

export interface Target extends Server {
  describe: string;
  /** Memory per waiting visitor of this target's index, when it is measured while the target runs. */
  measureMemory?: (visitors: number) => Promise<MemoryFigures>;
  /** Base URL for the admin API (setup); any API process will do. */
  adminUrl: string;
  adminEmail: string;
  adminPassword: string;
  /** The last output lines of every process of the target, for error messages. */
  tail(): string;
  /** Where the target keeps its record (benches that prepare data there, such as --analytics). */
  record: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };
}

export interface TargetOptions {
  /** Directory for V8 CPU profiles of the server processes (node --cpu-prof), written when they stop. */
  cpuProf?: string | undefined;
}

/** The processes and temp dirs of one server, stopped together (processes in reverse start order). */
class ProcessGroup {
  private readonly members: Child[] = [];
  private readonly dirs: TempDir[] = [];

  add(child: Child): Child {
    this.members.push(child);
    return child;
  }

  tempDir(prefix: string): TempDir {
    const dir = makeTempDir(prefix);
    this.dirs.push(dir);
    return dir;
  }

  private readonly cleanups: (() => Promise<void>)[] = [];

  /** Runs after the processes have stopped (e.g. dropping a database). */
  onStop(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  async stop(): Promise<void> {
    for (const child of [...this.members].reverse()) await stopChild(child);
    for (const dir of this.dirs) dir.remove();
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => {});
  }

  tail(): string {
    const parts = this.members.map((child) => `--- ${child.name}\n${child.tail()}`);
    return this.members.length === 1 ? (this.members[0]?.tail() ?? "") : parts.join("\n");
  }
}

/** bench/plain-server.ts: the cheapest useful JSON endpoint node:http can serve. */
export async function startPlain(): Promise<Server> {
  const group = new ProcessGroup();
  try {
    const port = await freePort();
    const child = group.add(
      startChild(
        "plain server",
        ["--import", "tsx", "bench/plain-server.ts"],
        childEnv({ PORT: String(port), HOST }),
      ),
    );
    const baseUrl = `http://${HOST}:${port}`;
    await waitReady(child, `${baseUrl}/`, 30_000);
    return { baseUrls: [baseUrl], stop: () => group.stop() };
  } catch (error) {
    await group.stop();
    throw error;
  }
}

interface Credentials {
  adminEmail: string;
  adminPassword: string;
  secretKey: string;
}

function newCredentials(): Credentials {
  return {
    adminEmail: "bench@example.com",
    adminPassword: randomBytes(12).toString("hex"),
    secretKey: randomBytes(32).toString("hex"),
  };
}

/** Settings every Anteroom process of one target shares; `extra` adds the storage settings. */
function anteroomEnv(credentials: Credentials, extra: Record<string, string>): Record<string, string> {
  return childEnv({
    HOST,
    ADMIN_EMAIL: credentials.adminEmail,
    ADMIN_PASSWORD: credentials.adminPassword,
    SECRET_KEY: credentials.secretKey,
    LOG_LEVEL: "warn",
    ALLOW_PRIVATE_CALLBACKS: "true",
    // The load comes from one address: limits at their highest, so the bench measures what the limiter
    // costs per request (it still counts every one), never its refusals.
    RATE_LIMIT_STATUS_PER_SECOND: "1000000",
    RATE_LIMIT_JOINS_PER_SECOND: "1000000",
    RATE_LIMIT_CANCELS_PER_SECOND: "1000000",
    RATE_LIMIT_ADMISSION_CHECKS_PER_SECOND: "1000000",
    RATE_LIMIT_ADMIN_PER_SECOND: "1000000",
    RATE_LIMIT_KEY_FAILURES_PER_MINUTE: "1000000",
    ...extra,
  });
}

/** Starts one `node bin/anteroom.js serve` on a free port and waits for /healthz; returns its base URL. */
async function startApi(
  group: ProcessGroup,
  name: string,
  nodeArgs: readonly string[],
  env: Record<string, string>,
): Promise<string> {
  const port = await freePort();
  const child = group.add(
    startChild(name, [...nodeArgs, "bin/anteroom.js", "serve"], { ...env, PORT: String(port) }),
  );
  const baseUrl = `http://${HOST}:${port}`;
  await waitReady(child, `${baseUrl}/healthz`, 60_000);
  return baseUrl;
}

function asTarget(
  group: ProcessGroup,
  describe: string,
  baseUrls: string[],
  credentials: Credentials,
  record: Target["record"],
): Target {
  const adminUrl = baseUrls[0];
  if (adminUrl === undefined) throw new Error(`${describe}: no API process`);
  return {
    describe,
    baseUrls,
    adminUrl,
    adminEmail: credentials.adminEmail,
    adminPassword: credentials.adminPassword,
    stop: () => group.stop(),
    tail: () => group.tail(),
    record,
  };
}

/**
 * The Anteroom under test.
 *
 * "embedded": one `node bin/anteroom.js serve` (SQLite record, in-process index) with a throwaway DATA_DIR.
 * "production": PostgreSQL + Redis (see production.ts), two API processes the load is split across, and
 * one worker.
 */
export async function startTarget(mode: Mode, options: TargetOptions = {}): Promise<Target> {
  const nodeArgs = options.cpuProf === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProf}`];
  const group = new ProcessGroup();
  try {
    switch (mode) {
      case "embedded": {
        const credentials = newCredentials();
        const dataDir = group.tempDir("anteroom-bench-");
        const env = anteroomEnv(credentials, { DATA_DIR: dataDir.path });
        const url = await startApi(group, "anteroom (embedded)", nodeArgs, env);
        return asTarget(group, "embedded (SQLite + in-process index)", [url], credentials, {
          kind: "sqlite",
          path: join(dataDir.path, "anteroom.db"),
        });
      }
      case "production": {
        const credentials = newCredentials();
        const services = await startServices((child) => group.add(child));
        group.onStop(() => services.dropDatabase());
        const env = anteroomEnv(credentials, { DB_URL: services.dbUrl, REDIS_URL: services.redisUrl });
        await migrate(env);
        const urls = [
          await startApi(group, "anteroom api 1", nodeArgs, env),
          await startApi(group, "anteroom api 2", nodeArgs, env),
        ];
        await startWorker((child) => group.add(child), nodeArgs, env);
        return {
          ...asTarget(
            group,
            "production (PostgreSQL + Redis, 2 API processes, 1 worker)",
            urls,
            credentials,
            {
              kind: "postgres",
              url: services.dbUrl,
            },
          ),
          measureMemory: (visitors) => measureRedisMemory(services.redisUrl, visitors),
        };
      }
    }
  } catch (error) {
    await group.stop();
    throw error;
  }
}
