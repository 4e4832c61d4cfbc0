import { spawnSync } from "node:child_process";
import { Cluster, createDatabase, freePort, PrivateRedis } from "../helpers/cluster.js";
import { postgresForTests } from "../helpers/postgres.js";

/**
 * The production processes the Compose stack and the Kubernetes manifests run (`anteroom migrate`, `serve`,
 * `worker`), started directly as child processes on loopback: a database of their own on the test
 * PostgreSQL, and a private redis-server.
 */
export interface Stack {
  cluster: Cluster;
  redis: PrivateRedis;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** PostgreSQL and redis-server are at hand (under CI=true they must be: missing ones fail, never skip). */
export async function stackAvailable(): Promise<boolean> {
  const redis = spawnSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" }).status === 0;
  if (!redis && process.env.CI !== "true") {
    console.warn(
      "\n!!! redis-server not installed: the production-process deployment tests are SKIPPED !!!\n",
    );
    return false;
  }
  return (await postgresForTests()) !== undefined;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const server = await postgresForTests();
  if (server === undefined) throw new Error("PostgreSQL unavailable");
  const database = await createDatabase(server);
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const cluster = new Cluster({ dbUrl: database.url, redisUrl: redis.url, env });
  await cluster.migrate();
  return {
    cluster,
    redis,
    databaseUrl: database.url,
    async stop() {
      await cluster.stop();
      await redis.stop();
      await database.drop();
    },
  };
}
